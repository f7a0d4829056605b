# An input with secondaryFiles: a required ".idx", an optional ".meta" in
# place of the extension and a ".bai" whose "required" is an expression
# (false: optional). tests/integration/test_s3.sh gives it an
# s3:// primary; the tool prints the primary, what it finds next to it,
# and the basenames of the secondaryFiles cwld gave it.
cwlVersion: v1.2
class: CommandLineTool
requirements:
  InlineJavascriptRequirement: {}
inputs:
  bam:
    type: File
    secondaryFiles:
      - .idx
      - ^.meta?
      - {pattern: .bai, required: "$(self.size < 0)"}
baseCommand: [sh, -c]
arguments:
  - 'cd "$(inputs.bam.dirname)" && cat "$(inputs.bam.basename)" "$(inputs.bam.basename).idx" && { cat "$(inputs.bam.nameroot).meta" 2>/dev/null || echo no-meta; } && echo "$0"'
  - $(inputs.bam.secondaryFiles.map(function (f) { return f.basename; }).join(","))
stdout: seen.txt
outputs:
  seen: stdout
