#!/usr/bin/env node
import { launch } from './launch.js';

await launch('klp-verify', 'klp-verify.ts');
