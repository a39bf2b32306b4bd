/**
 * The download progress of a distro adapter (file name + bytes) as the CLI's per-package progress: each
 * file is a package of its own, numbered in the order its download began.
 */
import type { DownloadProgress } from './download.js';
import type { PackageProgress } from './fetch-packages.js';

export function packageDownloadProgress(
  onDownload: (progress: PackageProgress) => void,
): (fileName: string, progress: DownloadProgress) => void {
  const files: string[] = [];
  return (fileName, progress) => {
    if (!files.includes(fileName)) files.push(fileName);
    onDownload({ ...progress, package: fileName, fileName, index: files.indexOf(fileName), count: 1 });
  };
}
