#!/usr/bin/env cwl-runner
# Copies stdin to stdout and writes a line to stderr, through an image's
# program without a shell wrapper (the attached stream feeds stdin).
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim}
inputs:
  data: File
stdin: $(inputs.data.path)
baseCommand: [sh, -c, "cat; echo done >&2"]
stdout: copy.bin
stderr: err.txt
outputs:
  copy: {type: stdout}
  err: {type: stderr}
