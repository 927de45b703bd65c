"""Role variable tables, generated from meta/argument_specs.yml, and defaults checked against the specs.

For every role under roles/ (internal ones, named ``_...``, included):

- every variable in defaults/main.yml is an option of the ``main`` entry point of meta/argument_specs.yml and
  every option of that entry point is in defaults/main.yml (``_``-prefixed private variables excepted), and
  where the spec gives a default it equals the value in defaults/main.yml;
- README.md holds, between ``<!-- BEGIN VARIABLES -->`` and ``<!-- END VARIABLES -->``, the table this script
  writes from the spec: name, type, default (defaults/main.yml's value, the one that applies) and description,
  with argument-spec markup (C(), V(), O(), I(), B(), U(), L(), ...) turned into Markdown.

    python tests/tools/role_docs.py            # rewrite the tables
    python tests/tools/role_docs.py --check    # change nothing; exit 1 on a stale table or a disagreement
    python tests/tools/role_docs.py --check ollama docker    # only these roles

Description texts belong in the argument spec; edit it there and run the script, never the table.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
BEGIN = '<!-- BEGIN VARIABLES -->'
END = '<!-- END VARIABLES -->'
NOTE = '<!-- Generated from meta/argument_specs.yml by tests/tools/role_docs.py: edit the spec, not this table. -->'
LONG_DEFAULT = 90  # characters; a longer default is left to defaults/main.yml


def markup_to_markdown(text: str) -> str:
    """Argument-spec markup (as ansible-doc reads it) to Markdown; a table cell has no line breaks or bare pipes."""
    text = re.sub(r'L\(([^)]*?),\s*([^)]+)\)', r'[\1](\2)', text)
    text = re.sub(r'U\(([^)]+)\)', r'<\1>', text)
    text = re.sub(r'R\(([^)]*?),\s*([^)]+)\)', r'\1', text)
    text = re.sub(r'I\(([^)]+)\)', r'*\1*', text)
    text = re.sub(r'B\(([^)]+)\)', r'**\1**', text)
    text = re.sub(r'P\(([^)#]+)(?:#[^)]*)?\)', r'`\1`', text)
    # C(), V(), O(), RV(), E(), M(): code; O(name=value) and RV(name=value) keep both sides.
    text = re.sub(r'\b(?:C|V|O|RV|E|M)\(((?:[^()]|\([^()]*\))*)\)', r'`\1`', text)
    text = text.replace('HORIZONTALLINE', ' ')
    text = ' '.join(text.split())
    return escape_pipes(text)


def escape_pipes(text: str) -> str:
    return re.sub(r'(?<!\\)\|', r'\\|', text)


def description(spec: dict) -> str:
    desc = spec.get('description', '')
    if isinstance(desc, list):
        desc = ' '.join(str(d) for d in desc)
    text = markup_to_markdown(str(desc))
    if spec.get('choices'):
        choices = ', '.join(f'`{render_scalar(c)}`' for c in spec['choices'])
        if not re.search(r'One of[: ]', text):
            text += f' One of: {choices}.'
    suboptions = spec.get('options') or {}
    if suboptions:
        keys = ', '.join(f'`{k}`' + (' (required)' if (v or {}).get('required') else '') for k, v in suboptions.items())
        text += f' Keys: {keys}.'
    return text.strip()


def type_name(spec: dict) -> str:
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        return f"list of {spec['elements']}"
    return kind


def render_scalar(value) -> str:
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, str):
        return value if value else '""'
    return str(value)


def render_default(name: str, spec: dict, defaults: dict) -> str:
    if name in defaults:
        value = defaults[name]
    elif 'default' in spec:
        value = spec['default']
    elif spec.get('required'):
        return '*required*'
    else:
        return ''
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(', ', ': '))
    else:
        text = render_scalar(value)
    text = ' '.join(text.split())
    if len(text) > LONG_DEFAULT:
        return 'see `defaults/main.yml`'
    return '`' + escape_pipes(text).replace('`', "'") + '`'


def table(options: dict, defaults: dict) -> list[str]:
    lines = ['| Variable | Type | Default | Description |', '|---|---|---|---|']
    for name, spec in options.items():
        spec = spec or {}
        lines.append(f'| `{name}` | {type_name(spec)} | {render_default(name, spec, defaults)} | {description(spec)} |')
    return lines


def variables_block(specs: dict, defaults: dict) -> str:
    entry_points = specs.get('argument_specs') or {}
    lines = [BEGIN, NOTE, '']
    main = entry_points.get('main') or {}
    if main.get('options') or len(entry_points) <= 1:
        lines += table(main.get('options') or {}, defaults)
    else:
        lines += ['The main entry point takes no variables.']
    for entry, spec in entry_points.items():
        if entry == 'main':
            continue
        spec = spec or {}
        lines += ['', f'Entry point `{entry}` (`tasks_from: {entry}`): {markup_to_markdown(str(spec.get("short_description", "")))}', '']
        lines += table(spec.get('options') or {}, defaults)
    lines += ['', END]
    return '\n'.join(lines)


def load_yaml(path: Path):
    with path.open(encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def check_defaults(role: str, specs: dict, defaults: dict) -> list[str]:
    problems = []
    main = ((specs.get('argument_specs') or {}).get('main') or {}).get('options') or {}
    public_defaults = {k for k in defaults if not k.startswith('_')}
    public_options = {k for k in main if not k.startswith('_')}
    for name in sorted(public_defaults - public_options):
        problems.append(f'{role}: {name} is in defaults/main.yml but not in the argument spec of entry point main')
    for name in sorted(public_options - public_defaults):
        problems.append(f'{role}: {name} is in the argument spec of entry point main but not in defaults/main.yml')
    for name in sorted(public_defaults & public_options):
        spec = main[name] or {}
        if 'default' in spec and spec['default'] != defaults[name]:
            problems.append(f'{role}: {name} defaults to {defaults[name]!r} in defaults/main.yml but the argument spec '
                            f'says {spec["default"]!r}')
    return problems


def process(role_dir: Path, check: bool) -> list[str]:
    role = role_dir.name
    specs_path = role_dir / 'meta' / 'argument_specs.yml'
    defaults_path = role_dir / 'defaults' / 'main.yml'
    readme_path = role_dir / 'README.md'
    if not specs_path.is_file():
        return [f'{role}: meta/argument_specs.yml is missing']
    specs = load_yaml(specs_path) or {}
    defaults = (load_yaml(defaults_path) or {}) if defaults_path.is_file() else {}
    problems = check_defaults(role, specs, defaults)

    if not readme_path.is_file():
        return problems + [f'{role}: README.md is missing']
    readme = readme_path.read_text(encoding='utf-8')
    block = variables_block(specs, defaults)
    if BEGIN not in readme or END not in readme:
        problems.append(f'{role}: README.md has no {BEGIN} ... {END} markers: put them where the variables table goes')
        return problems
    head, rest = readme.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    wanted = head + block + tail
    if wanted != readme:
        if check:
            diff = difflib.unified_diff(readme.splitlines(), wanted.splitlines(), f'{role}/README.md',
                                        f'{role}/README.md (generated)', lineterm='', n=0)
            problems.append(f'{role}: README.md variables table is out of date (run python tests/tools/role_docs.py):\n'
                            + '\n'.join(list(diff)[:40]))
        else:
            readme_path.write_text(wanted, encoding='utf-8')
            print(f'{role}: README.md variables table written')
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--check', action='store_true', help='change nothing; fail on a stale table or a disagreement')
    parser.add_argument('--roles-dir', type=Path, default=REPO_ROOT / 'roles')
    parser.add_argument('roles', nargs='*', help='role names (default: every role)')
    args = parser.parse_args(argv)
    role_dirs = sorted(p for p in args.roles_dir.iterdir() if p.is_dir())
    if args.roles:
        role_dirs = [p for p in role_dirs if p.name in args.roles]
    problems = []
    for role_dir in role_dirs:
        problems += process(role_dir, args.check)
    return report(problems, f'role docs: {len(role_dirs)} roles, defaults agree with the argument specs, '
                            'README tables up to date')


def report(problems: list[str], all_good: str) -> int:
    """Each problem on stderr, or the one line that says all is well; the exit status."""
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(all_good)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
