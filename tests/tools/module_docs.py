"""Module reference pages (docs/modules/<module>.md), generated from each module's DOCUMENTATION, EXAMPLES and RETURN.

The texts are read through ``ansible-doc --json``, so doc fragments are merged exactly as ``ansible-doc`` shows
them; the collection must be on ANSIBLE_COLLECTIONS_PATH (source tests/harness/lib.sh, or run it from make).

    python tests/tools/module_docs.py            # rewrite the pages
    python tests/tools/module_docs.py --check    # change nothing; exit 1 on a page that is out of date

The module's documentation block is the source; edit it there and run the script, never the page.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from role_docs import markup_to_markdown, render_scalar, report  # noqa: E402  (a sibling script, not a package)

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = 'llmops.ollama'
NOTE = ('<!-- Generated from the module\'s documentation by tests/tools/module_docs.py: edit the module, '
        'not this page. -->')


def text(value) -> str:
    if value is None:
        return ''
    if isinstance(value, list):
        value = ' '.join(str(v) for v in value)
    return markup_to_markdown(str(value))


def paragraphs(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [markup_to_markdown(str(item)) for item in items]


def type_name(spec: dict) -> str:
    kind = spec.get('type', 'str')
    if kind == 'list' and spec.get('elements'):
        return f"list of {spec['elements']}"
    return kind


def code(value) -> str:
    if isinstance(value, (list, dict)):
        rendered = json.dumps(value, separators=(', ', ': '))
    else:
        rendered = render_scalar(value)
    return '`' + rendered.replace('|', '\\|').replace('`', "'") + '`'


def option_rows(options: dict, prefix: str = '') -> list[str]:
    rows = []
    for name in sorted(options):
        spec = options[name] or {}
        facts = []
        if spec.get('required'):
            facts.append('**required**')
        if 'default' in spec and spec['default'] is not None:
            facts.append('default ' + code(spec['default']))
        if spec.get('choices'):
            facts.append('one of ' + ', '.join(code(c) for c in spec['choices']))
        if spec.get('aliases'):
            facts.append('aliases ' + ', '.join(code(a) for a in spec['aliases']))
        if spec.get('no_log'):
            facts.append('not logged')
        rows.append(f"| `{prefix}{name}` | {type_name(spec)} | {'; '.join(facts)} | {text(spec.get('description'))} |")
        rows += option_rows(spec.get('suboptions') or {}, f'{prefix}{name}.')
    return rows


def return_rows(values: dict, prefix: str = '') -> list[str]:
    rows = []
    for name in sorted(values):
        spec = values[name] or {}
        rows.append(f"| `{prefix}{name}` | {type_name(spec)} | {text(spec.get('returned'))} | "
                    f"{text(spec.get('description'))} |")
        rows += return_rows(spec.get('contains') or {}, f'{prefix}{name}.')
    return rows


def attribute_rows(attributes: dict) -> list[str]:
    rows = []
    for name in sorted(attributes):
        spec = attributes[name] or {}
        support = spec.get('support', '')
        if spec.get('membership'):
            support = f"{support}: {', '.join(spec['membership'])}" if support else ', '.join(spec['membership'])
        details = ' '.join(p for p in paragraphs(spec.get('description')) + paragraphs(spec.get('details')))
        rows.append(f'| `{name}` | {support} | {details} |')
    return rows


def page(name: str, data: dict) -> str:
    doc = data['doc']
    lines = [f'# {COLLECTION}.{name}', '', NOTE, '', f"{text(doc.get('short_description'))}.", '']
    for paragraph in paragraphs(doc.get('description')):
        lines += [paragraph, '']
    lines.pop()
    lines += ['', '```', f'ansible-doc {COLLECTION}.{name}', '```']
    if doc.get('requirements'):
        lines += ['', '## Requirements', ''] + [f'- {text(r)}' for r in doc['requirements']]
    lines += ['', '## Options', '']
    if doc.get('options'):
        lines += ['| Option | Type | Facts | Description |', '|---|---|---|---|'] + option_rows(doc['options'])
    else:
        lines += ['None.']
    if doc.get('attributes'):
        lines += ['', '## Attributes', '', '| Attribute | Support | Description |', '|---|---|---|']
        lines += attribute_rows(doc['attributes'])
    if doc.get('notes'):
        lines += ['', '## Notes', ''] + [f'- {n}' for n in paragraphs(doc['notes'])]
    if data.get('examples'):
        lines += ['', '## Examples', '', '```yaml', data['examples'].strip('\n'), '```']
    if data.get('return'):
        lines += ['', '## Return values', '', '| Key | Type | Returned | Description |', '|---|---|---|---|']
        lines += return_rows(data['return'])
    if doc.get('seealso'):
        lines += ['', '## See also', '']
        for item in doc['seealso']:
            if 'module' in item:
                lines.append(f"- `{item['module']}`: {text(item.get('description'))}")
            elif 'link' in item:
                lines.append(f"- [{item.get('name', item['link'])}]({item['link']}): {text(item.get('description'))}")
            elif 'ref' in item:
                lines.append(f"- {item.get('name', item['ref'])}: {text(item.get('description'))}")
    if doc.get('author'):
        authors = doc['author'] if isinstance(doc['author'], list) else [doc['author']]
        lines += ['', '## Authors', ''] + [f'- {a}' for a in authors]
    return '\n'.join(line.rstrip() for line in lines) + '\n'


def module_names() -> list[str]:
    return sorted(p.stem for p in (REPO_ROOT / 'plugins' / 'modules').glob('*.py') if p.stem != '__init__')


def read_docs(names: list[str]) -> dict:
    result = subprocess.run(['ansible-doc', '--json', '-t', 'module'] + [f'{COLLECTION}.{n}' for n in names],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f'module docs: ansible-doc failed (is {COLLECTION} on ANSIBLE_COLLECTIONS_PATH? '
                         f'source tests/harness/lib.sh): {result.stderr.strip().splitlines()[-1:]}')
    return json.loads(result.stdout)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--check', action='store_true', help='change nothing; fail on a page that is out of date')
    parser.add_argument('--out', type=Path, default=REPO_ROOT / 'docs' / 'modules')
    args = parser.parse_args(argv)
    names = module_names()
    docs = read_docs(names)
    problems = []
    args.out.mkdir(parents=True, exist_ok=True)
    wanted_files = set()
    for name in names:
        path = args.out / f'{name}.md'
        wanted_files.add(path.name)
        wanted = page(name, docs[f'{COLLECTION}.{name}'])
        current = path.read_text(encoding='utf-8') if path.is_file() else ''
        if current == wanted:
            continue
        if args.check:
            diff = difflib.unified_diff(current.splitlines(), wanted.splitlines(), str(path.relative_to(REPO_ROOT)),
                                        'generated', lineterm='', n=0)
            problems.append(f'{path.relative_to(REPO_ROOT)} is out of date (run python tests/tools/module_docs.py):\n'
                            + '\n'.join(list(diff)[:40]))
        else:
            path.write_text(wanted, encoding='utf-8')
            print(f'{path.relative_to(REPO_ROOT)} written')
    for stale in sorted(set(p.name for p in args.out.glob('*.md')) - wanted_files):
        if args.check:
            problems.append(f'docs/modules/{stale} documents no module: delete it (run python tests/tools/module_docs.py)')
        else:
            (args.out / stale).unlink()
            print(f'docs/modules/{stale} deleted (no such module)')
    return report(problems, f'module docs: {len(names)} modules, docs/modules up to date')


if __name__ == '__main__':
    sys.exit(main())
