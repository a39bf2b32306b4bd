#!/usr/bin/env node
import { launch } from './launch.js';

await launch('kpatch-build', 'kpatch-build.ts');
