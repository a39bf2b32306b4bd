#!/usr/bin/env node
import { launch } from './launch.js';

await launch('klp-convert', 'klp-convert.ts');
