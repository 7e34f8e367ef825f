"""The `distcf` program from Python: distcf.run("train", train="u1.h5", factors=32, out="m.h5").

Keyword options become --long-options (underscores as dashes; True is a bare flag, False and None
are left out, lists are repeated values); `ranks=N` runs it under mpirun (or `launcher="srun"`).
The commands that write a model (train, foldin) return the loaded Model; with json=True the
parsed JSON of the command's --json output; otherwise the finished process (stdout, stderr).
"""

import json as _json
import os
import shutil
import subprocess

_HERE = os.path.dirname(os.path.abspath(__file__))


class DistcfError(RuntimeError):
    """A distcf command failed: its exit code and its error line."""

    def __init__(self, args, returncode, stderr):
        last = [l for l in stderr.strip().splitlines() if l.strip()]
        super().__init__(f"distcf exited with {returncode}: {last[-1] if last else '(no message)'}")
        self.args_run, self.returncode, self.stderr = args, returncode, stderr


def find_binary(binary=None):
    """The distcf program: `binary`, else $DISTCF_BIN, else `distcf` on PATH, else the source
    tree's build/distcf (next to python/)."""
    for candidate in (binary, os.environ.get("DISTCF_BIN"), shutil.which("distcf"),
                      os.path.join(_HERE, "..", "..", "build", "distcf")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise FileNotFoundError("distcf program not found: pass binary=, set DISTCF_BIN or put distcf on PATH")


def command_line(command, options, binary=None, ranks=None, launcher="mpirun", launcher_args=()):
    """The argument list run() would execute."""
    args = [find_binary(binary), command]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag] + [str(v) for v in value]
        else:
            args += [flag, str(value)]
    if ranks:
        if launcher == "srun":
            args = ["srun", "--mpi=pmix", "-n", str(ranks), *launcher_args] + args
        else:
            args = ["mpirun", "-n", str(ranks), *launcher_args] + args
    return args


def run(command, binary=None, ranks=None, launcher="mpirun", launcher_args=(), check=True, env=None, **options):
    """Run `distcf COMMAND --option value ...`; see the module's help for what comes back."""
    args = command_line(command, options, binary, ranks, launcher, launcher_args)
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run(args, capture_output=True, text=True, env=full_env)
    if check and proc.returncode != 0:
        raise DistcfError(args, proc.returncode, proc.stderr)
    if options.get("json") and proc.returncode == 0:
        return _json.loads(proc.stdout)
    if command in ("train", "foldin") and options.get("out") and proc.returncode == 0:
        from .model import Model

        return Model.load(options["out"])
    return proc
