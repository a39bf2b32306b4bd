/**
 * The /init the verification VM runs. It performs the plan step by step and reports each step on the
 * console as one marker line (`KLPV <step> <subject> <status>`), so the host can tell exactly which step
 * held and which did not, whatever else the kernel prints.
 */
export const MARKER = 'KLPV';
export const OUTPUT_MARKER = 'KLPV-OUT';

export interface VmLivepatch {
  /** Path of the .ko inside the VM. */
  file: string;
  /** The module name, which is also the directory under /sys/kernel/livepatch. */
  name: string;
}

export interface VmPlan {
  /** Modules loaded before the first check (dependencies, already-present targets). */
  extraModules: string[];
  livepatches: VmLivepatch[];
  /** Modules loaded after the livepatches: they exercise late patching. */
  lateModules: string[];
  /** Paths of check scripts inside the VM. */
  checks: string[];
  unload: boolean;
  transitionTimeoutSeconds: number;
  /** Commands run first, e.g. to dump data to a second serial port. */
  prelude?: string[];
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * Waits (at most 2 s) until the serial ports' transmit counters stop moving. `reboot -f` right after the
 * last write can drop bytes still queued for the UART: a cut-off kernel log or a lost final marker.
 */
export const DRAIN_SERIAL = `drain_serial() {
  last=none
  n=0
  while [ $n -lt 40 ]; do
    now=$(grep -o 'tx:[0-9]*' /proc/tty/driver/serial 2>/dev/null)
    [ "$now" = "$last" ] && return 0
    last=$now
    n=$((n + 1))
    sleep 0.05
  done
}`;

const PREAMBLE = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo 8 > /proc/sys/kernel/printk_ratelimit 2>/dev/null
mark() { echo "${MARKER} $*"; }
${DRAIN_SERIAL}
finish() {
  mark dmesg - begin
  dmesg
  mark dmesg - end
  mark done - "$1"
  drain_serial
  reboot -f
  sleep 60
}
# Runs a command, echoing its output with a prefix so the host can show it under the step.
run() {
  step=$1; subject=$2; shift 2
  "$@" > /tmp/out 2>&1
  rc=$?
  sed "s/^/${OUTPUT_MARKER} $step $subject: /" /tmp/out
  mark "$step" "$subject" "$rc"
  return $rc
}
wait_transition() {
  dir=/sys/kernel/livepatch/$1
  n=0
  limit=$(( $2 * 10 ))
  while [ ! -e "$dir/transition" ] || [ "$(cat "$dir/transition")" != 0 ]; do
    n=$((n + 1))
    if [ $n -gt $limit ]; then return 1; fi
    sleep 0.1
  done
  return 0
}
wait_gone() {
  n=0
  limit=$(( $2 * 10 ))
  while [ -e "/sys/kernel/livepatch/$1" ]; do
    n=$((n + 1))
    if [ $n -gt $limit ]; then return 1; fi
    sleep 0.1
  done
  return 0
}
mark boot - 0
`;

/** Renders the plan as a busybox shell script. */
export function renderInitScript(plan: VmPlan): string {
  const lines: string[] = [PREAMBLE];
  const timeout = plan.transitionTimeoutSeconds;
  for (const command of plan.prelude ?? []) lines.push(command);
  for (const file of plan.extraModules) {
    lines.push(`run load-extra ${shellQuote(file)} insmod ${shellQuote(file)} || finish fail`);
  }
  plan.checks.forEach((check, i) => {
    lines.push(`run precheck ${i} sh ${shellQuote(check)}`);
  });
  for (const patch of plan.livepatches) {
    lines.push(`run insmod ${patch.name} insmod ${shellQuote(patch.file)} || finish fail`);
    lines.push(
      `if wait_transition ${patch.name} ${timeout}; then mark transition ${patch.name} 0; ` +
        `else mark transition ${patch.name} timeout; finish fail; fi`,
    );
  }
  for (const file of plan.lateModules) {
    lines.push(`run load-late ${shellQuote(file)} insmod ${shellQuote(file)} || finish fail`);
  }
  plan.checks.forEach((check, i) => {
    lines.push(`run check ${i} sh ${shellQuote(check)}`);
  });
  if (plan.unload) {
    for (const patch of [...plan.livepatches].reverse()) {
      const sys = `/sys/kernel/livepatch/${patch.name}`;
      // A patch replaced by a later atomic-replace patch is already gone from sysfs: only rmmod it.
      lines.push(
        `if [ -e ${sys}/enabled ]; then echo 0 > ${sys}/enabled; ` +
          `if wait_gone ${patch.name} ${timeout}; then mark disable ${patch.name} 0; ` +
          `else mark disable ${patch.name} timeout; finish fail; fi; else mark disable ${patch.name} 0; fi`,
      );
      lines.push(`run rmmod ${patch.name} rmmod ${patch.name} || finish fail`);
    }
    plan.checks.forEach((check, i) => {
      lines.push(`run postcheck ${i} sh ${shellQuote(check)}`);
    });
  }
  lines.push('finish ok', '');
  return lines.join('\n');
}
