#!/usr/bin/env cwl-runner
# Counts the words of one file: wc -w reading the file on stdin prints just
# the number.
cwlVersion: v1.2
class: CommandLineTool
doc: Count the words in a text file.
requirements:
  DockerRequirement:
    dockerPull: cwld-example:latest
baseCommand: [wc, -w]
stdin: $(inputs.part.path)
stdout: $(inputs.part.nameroot).count
inputs:
  part: File
outputs:
  count:
    type: stdout
