#!/usr/bin/env cwl-runner
# Writes a few lines to stderr over a second (test_serve.sh follows them as
# `log` events).
cwlVersion: v1.2
class: CommandLineTool
inputs: []
baseCommand: [sh, -c, 'for i in 1 2 3 4; do echo "tick $i" >&2; sleep 0.3; done; printf "no newline" >&2']
outputs: []
