#!/usr/bin/env node
// `runlens` on PATH (npm link / npm install -g): the bundled agent is the CLI.
require('../dist/agent.js');
