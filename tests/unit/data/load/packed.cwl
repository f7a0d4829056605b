{
  "cwlVersion": "v1.2",
  "$graph": [
    {
      "class": "CommandLineTool",
      "id": "#tool",
      "baseCommand": "true",
      "inputs": [{"id": "#tool/x", "type": "string"}],
      "outputs": []
    },
    {
      "class": "Workflow",
      "id": "#main",
      "inputs": [{"id": "#main/x", "type": "string"}],
      "outputs": [],
      "steps": [
        {"id": "#main/s", "run": "#tool",
         "in": [{"id": "#main/s/x", "source": "#main/x"}], "out": []}
      ]
    },
    {
      "class": "ExpressionTool",
      "id": "#other",
      "inputs": [],
      "outputs": [],
      "expression": "$({})"
    }
  ]
}
