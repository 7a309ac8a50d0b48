#!/usr/bin/env node
// The `keyturn` executable. A committed file (not dist/bin.js itself) so that a workspace install can
// link the bin before dist/ is built; it runs the built CLI.
import '../dist/bin.js';
