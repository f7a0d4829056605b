#!/usr/bin/env cwl-runner
# The smallest containerised tool: says hello on stdout.
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim}
inputs: []
baseCommand: [echo, hello]
outputs:
  out: {type: stdout}
