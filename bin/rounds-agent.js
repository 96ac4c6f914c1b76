#!/usr/bin/env node
import '../dist/apps/agent/src/main.js';
