#!/usr/bin/env python3
"""Checks a DAG file written by `cwld dag` without importing Airflow.

The file is compiled (so it is valid Python) and read with the ast module:
the DAG(...) arguments both Airflow 2.7+ and 3.x need, the BashOperator
tasks (task ids, bash_command literals) and the dependency edges written
with >> or << (also chains and lists) or set_upstream/set_downstream.

usage: check_dag.py FILE [--tasks N] [--task-ids a,b] [--edges 'a>b,b>c']
                         [--dag-id ID]
Exit status 0 when every check passes, 1 otherwise (each problem printed),
2 for bad usage.
"""
import argparse
import ast
import re
import sys

try:  # optional: when present, bash_command is rendered as Airflow would
    import jinja2
except ImportError:
    jinja2 = None

ID_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
FORBIDDEN_DAG_ARGS = ("schedule_interval", "fail_stop", "dag_display_name")
BASH_MODULES = ("airflow.providers.standard.operators.bash", "airflow.operators.bash")


class Checker:
    def __init__(self, path, source):
        self.path = path
        self.source = source
        self.problems = []
        self.tasks = {}  # variable name -> task_id
        self.task_ids = []
        self.edges = set()  # (upstream task_id, downstream task_id)
        self.dag_id = None

    def problem(self, node, msg):
        line = getattr(node, "lineno", 0)
        self.problems.append(f"{self.path}:{line}: {msg}")

    def check(self):
        low = self.source.lower()
        if "airflow" not in low or "dag" not in low:
            self.problem(None, "Airflow skips files without the words 'airflow' and 'dag'")
        try:
            code = compile(self.source, self.path, "exec")
        except SyntaxError as e:
            self.problems.append(f"{self.path}:{e.lineno}: syntax error: {e.msg}")
            return
        del code
        tree = ast.parse(self.source, self.path)
        self.check_imports(tree)
        dags = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and self.name(n.func) == "DAG"]
        if len(dags) != 1:
            self.problem(None, f"expected one DAG(...) call, found {len(dags)}")
        for call in dags:
            self.check_dag_call(call)
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                self.check_task(node)
        for node in ast.walk(tree):
            if isinstance(node, ast.Expr):
                self.collect_edges(node.value)

    @staticmethod
    def name(node):
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return node.attr
        return None

    def check_imports(self, tree):
        dag_import = False
        bash_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = {a.name for a in node.names}
                if node.module == "airflow" and "DAG" in names:
                    dag_import = True
                if node.module in BASH_MODULES and "BashOperator" in names:
                    bash_modules.add(node.module)
        if not dag_import:
            self.problem(None, "missing 'from airflow import DAG'")
        if bash_modules != set(BASH_MODULES):
            self.problem(None, "BashOperator must come from " + BASH_MODULES[0]
                         + " with a fallback to " + BASH_MODULES[1])
        tries = [n for n in ast.walk(tree) if isinstance(n, ast.Try)]
        if not any(any(self.name(h.type) == "ImportError" for h in t.handlers) for t in tries):
            self.problem(None, "the BashOperator fallback needs 'except ImportError'")

    def kwargs(self, call):
        return {k.arg: k.value for k in call.keywords if k.arg is not None}

    def check_dag_call(self, call):
        kw = self.kwargs(call)
        for bad in FORBIDDEN_DAG_ARGS:
            if bad in kw:
                self.problem(call, f"DAG argument '{bad}' breaks one of Airflow 2 or 3")
        dag_id = kw.get("dag_id")
        if not (isinstance(dag_id, ast.Constant) and isinstance(dag_id.value, str)):
            self.problem(call, "dag_id must be a string literal")
        else:
            self.dag_id = dag_id.value
            if not ID_RE.match(dag_id.value):
                self.problem(call, f"dag_id {dag_id.value!r} does not match {ID_RE.pattern}")
        expect = {"schedule": None, "catchup": False, "is_paused_upon_creation": True}
        for key, want in expect.items():
            v = kw.get(key)
            if not (isinstance(v, ast.Constant) and v.value is want):
                self.problem(call, f"DAG needs {key}={want}")
        start = kw.get("start_date")
        if not isinstance(start, ast.Call):
            self.problem(call, "DAG needs a fixed start_date")
        elif not any(k.arg == "tzinfo" or k.arg == "tz" for k in start.keywords):
            self.problem(call, "start_date must be timezone-aware (tzinfo= or tz=)")
        tags = kw.get("tags")
        if not isinstance(tags, ast.List) or not all(
                isinstance(t, ast.Constant) and isinstance(t.value, str) for t in tags.elts):
            self.problem(call, "DAG needs tags as a list of strings")

    def check_task(self, node):
        call = node.value
        if not (isinstance(call, ast.Call) and (self.name(call.func) or "").endswith("Operator")):
            return
        if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            self.problem(node, "a task must be assigned to one plain name")
            return
        var = node.targets[0].id
        kw = self.kwargs(call)
        tid = kw.get("task_id")
        if not (isinstance(tid, ast.Constant) and isinstance(tid.value, str)):
            self.problem(node, f"{var}: task_id must be a string literal")
            return
        if not ID_RE.match(tid.value):
            self.problem(node, f"task_id {tid.value!r} does not match {ID_RE.pattern}")
        if tid.value in self.task_ids:
            self.problem(node, f"duplicate task_id {tid.value!r}")
        if var in self.tasks:
            self.problem(node, f"variable {var} assigned twice")
        self.tasks[var] = tid.value
        self.task_ids.append(tid.value)
        if self.name(call.func) == "BashOperator":
            cmd = kw.get("bash_command")
            if not (isinstance(cmd, ast.Constant) and isinstance(cmd.value, str)):
                self.problem(node, f"{tid.value}: bash_command must be a string literal")
            elif cmd.value.endswith((".sh", ".bash")):
                self.problem(node, f"{tid.value}: bash_command ending in .sh/.bash is read "
                             "as a template file")
            elif "{{" in cmd.value or "{%" in cmd.value or "{#" in cmd.value:
                self.problem(node, f"{tid.value}: bash_command contains Jinja syntax")
            elif jinja2 is not None:
                # Airflow renders bash_command with Jinja: it must come out as is.
                env = jinja2.Environment(undefined=jinja2.StrictUndefined,
                                         keep_trailing_newline=True)
                try:
                    rendered = env.from_string(cmd.value).render()
                except jinja2.TemplateError as e:
                    rendered = f"<{e}>"
                if rendered != cmd.value:
                    self.problem(node, f"{tid.value}: Jinja changes bash_command")

    def operand(self, node):
        """Task ids an operand stands for (the value of a >> b is b)."""
        if isinstance(node, ast.Name):
            if node.id not in self.tasks:
                self.problem(node, f"'{node.id}' in a dependency is not a task")
                return set()
            return {self.tasks[node.id]}
        if isinstance(node, (ast.List, ast.Tuple)):
            out = set()
            for e in node.elts:
                out |= self.operand(e)
            return out
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift)):
            left, right = self.operand(node.left), self.operand(node.right)
            for a in left:
                for b in right:
                    self.edges.add((a, b) if isinstance(node.op, ast.RShift) else (b, a))
            return right
        self.problem(node, "unsupported expression in a dependency")
        return set()

    def collect_edges(self, node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.RShift, ast.LShift)):
            self.operand(node)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in ("set_downstream", "set_upstream")):
            this = self.operand(node.func.value)
            for arg in node.args:
                for other in self.operand(arg):
                    for t in this:
                        self.edges.add((t, other) if node.func.attr == "set_downstream"
                                       else (other, t))


def parse_edges(text):
    edges = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part.count(">") != 1:
            raise argparse.ArgumentTypeError(f"bad edge {part!r}: want 'up>down'")
        up, down = (s.strip() for s in part.split(">"))
        edges.add((up, down))
    return edges


def main(argv):
    ap = argparse.ArgumentParser(description="Check a cwld DAG file without Airflow.")
    ap.add_argument("file")
    ap.add_argument("--tasks", type=int, help="expected number of tasks")
    ap.add_argument("--task-ids", help="expected task ids, comma-separated (any order)")
    ap.add_argument("--edges", type=parse_edges,
                    help="expected edges, exactly: 'a>b,b>c' (empty string: none)")
    ap.add_argument("--dag-id", help="expected dag_id")
    args = ap.parse_args(argv)

    try:
        with open(args.file, encoding="utf-8") as f:
            source = f.read()
    except (OSError, UnicodeDecodeError) as e:
        print(f"{args.file}: {e}", file=sys.stderr)
        return 1
    c = Checker(args.file, source)
    c.check()
    if args.tasks is not None and len(c.task_ids) != args.tasks:
        c.problems.append(f"{args.file}: {len(c.task_ids)} tasks, expected {args.tasks}")
    if args.task_ids is not None:
        want = {t for t in args.task_ids.split(",") if t}
        if want != set(c.task_ids):
            c.problems.append(f"{args.file}: task ids {sorted(c.task_ids)}, "
                              f"expected {sorted(want)}")
    if args.edges is not None and args.edges != c.edges:
        missing = sorted(args.edges - c.edges)
        extra = sorted(c.edges - args.edges)
        c.problems.append(f"{args.file}: edges differ: missing {missing}, unexpected {extra}")
    if args.dag_id is not None and args.dag_id != c.dag_id:
        c.problems.append(f"{args.file}: dag_id {c.dag_id!r}, expected {args.dag_id!r}")
    for p in c.problems:
        print(p, file=sys.stderr)
    if c.problems:
        return 1
    print(f"{args.file}: ok: dag {c.dag_id}, {len(c.task_ids)} tasks, {len(c.edges)} edges")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
