#!/usr/bin/env cwl-runner
# Writes 1 GiB of zeros to stdout: cwld must stream it, not hold it.
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim}
inputs: []
baseCommand: [head, -c, "1073741824", /dev/zero]
stdout: big.bin
outputs:
  big: {type: stdout}
