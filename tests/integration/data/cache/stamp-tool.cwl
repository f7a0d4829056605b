#!/usr/bin/env cwl-runner
# Work reuse tests (test_cache.sh): the output holds the time of the run, so
# a reused result is told from a fresh one by its content.
cwlVersion: v1.2
class: CommandLineTool
requirements:
  EnvVarRequirement:
    envDef:
      GREETING: hello
  WorkReuse:
    enableReuse: $(inputs.reuse)
baseCommand: [sh, -c, 'date +%s%N > stamp.txt; cat "$0" > copy.txt; echo "$1 $GREETING" >> copy.txt; test ! -e "$2"']
arguments:
  - valueFrom: $(inputs.infile.path)
    position: 1
  - valueFrom: $(inputs.word)
    position: 2
  - valueFrom: $(inputs.fail_if)
    position: 3
inputs:
  infile: File
  word: string
  fail_if:
    type: string
    default: /nonexistent
  reuse:
    type: boolean
    default: true
outputs:
  stamp:
    type: File
    outputBinding: {glob: stamp.txt}
  copy:
    type: File
    outputBinding: {glob: copy.txt}
