#!/usr/bin/env node
import '../dist/apps/collector/src/main.js';
