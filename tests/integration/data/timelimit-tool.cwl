#!/usr/bin/env cwl-runner
# Sleeps past its 2 s ToolTimeLimit: the container must be stopped.
cwlVersion: v1.2
class: CommandLineTool
requirements:
  DockerRequirement: {dockerPull: debian:stable-slim}
  ToolTimeLimit: {timelimit: 2}
inputs: []
baseCommand: [sleep, "30"]
outputs: []
