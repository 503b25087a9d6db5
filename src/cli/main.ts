#!/usr/bin/env node
// The `lifeline` command. Subcommands arrive with the CLI issue.
console.log('lifeline: no commands yet');
