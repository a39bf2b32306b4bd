#!/usr/bin/env node
import { launch } from './launch.js';

await launch('create-diff-object', 'create-diff-object.ts');
