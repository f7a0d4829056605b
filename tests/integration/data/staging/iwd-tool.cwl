cwlVersion: v1.2
class: CommandLineTool
doc: IWD entries keep trailing newlines; a staged input's path is its staged place.
requirements:
  InlineJavascriptRequirement: {}
  ShellCommandRequirement: {}
  InitialWorkDirRequirement:
    listing:
      - entryname: conf.txt
        entry: |
          VALUE=$(inputs.message)
      - entryname: num.json
        entry: $(44.4)
      - entryname: staged.txt
        entry: $(inputs.infile)
      - entryname: tree
        entry: "$({class: 'Directory', listing: [{class: 'Directory', basename: 'sub', listing: [inputs.infile]}]})"
inputs:
  message: string
  infile: File
outputs:
  conf: {type: File, outputBinding: {glob: conf.txt}}
  num: {type: File, outputBinding: {glob: num.json}}
  tree: {type: Directory, outputBinding: {glob: tree}}
  where: {type: File, outputBinding: {glob: where.txt}}
arguments:
  - shellQuote: false
    valueFrom: echo "$(inputs.infile.path)" > where.txt
