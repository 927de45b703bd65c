# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/tools/role_docs.py: argument-spec markup never reaches a README, disagreements and stale tables fail."""

import importlib.util
import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
_SPEC = importlib.util.spec_from_file_location('role_docs', os.path.join(ROOT, 'tests', 'tools', 'role_docs.py'))
role_docs = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(role_docs)


def test_markup_becomes_markdown():
    text = role_docs.markup_to_markdown(
        'C(a|b) and V(true), O(ollama_settings_auto=true), I(never), B(bold), U(https://x.example), '
        'L(the docs, https://y.example), P(llmops.ollama.model_mirror#role).')
    assert text == ('`a\\|b` and `true`, `ollama_settings_auto=true`, *never*, **bold**, <https://x.example>, '
                    '[the docs](https://y.example), `llmops.ollama.model_mirror`.')


def test_nested_parentheses_stay_inside_the_code_span():
    assert role_docs.markup_to_markdown('C(default(0)) here') == '`default(0)` here'


def _role(tmp_path, defaults, options, readme):
    role = tmp_path / 'roles' / 'demo'
    (role / 'defaults').mkdir(parents=True)
    (role / 'meta').mkdir()
    (role / 'defaults' / 'main.yml').write_text(yaml.safe_dump(defaults))
    (role / 'meta' / 'argument_specs.yml').write_text(yaml.safe_dump({'argument_specs': {'main': {'options': options}}}))
    (role / 'README.md').write_text(readme)
    return role


def test_disagreements_are_reported(tmp_path):
    role = _role(tmp_path, {'demo_a': 1, 'demo_b': 'x', '_demo_private': 3},
                 {'demo_a': {'type': 'int', 'default': 2, 'description': 'A.'},
                  'demo_c': {'type': 'str', 'description': 'C.'}},
                 f'{role_docs.BEGIN}\n{role_docs.END}\n')
    problems = role_docs.process(role, check=True)
    assert any('demo_b is in defaults/main.yml but not in the argument spec' in p for p in problems)
    assert any('demo_c is in the argument spec of entry point main but not in defaults/main.yml' in p for p in problems)
    assert any('demo_a defaults to 1 in defaults/main.yml but the argument spec says 2' in p for p in problems)
    assert not any('_demo_private' in p for p in problems)


def test_table_is_written_then_up_to_date(tmp_path):
    role = _role(tmp_path, {'demo_mode': 'fast'},
                 {'demo_mode': {'type': 'str', 'default': 'fast', 'choices': ['fast', 'slow'],
                                'description': ['How C(demo) runs.']}},
                 f'# demo\n\n{role_docs.BEGIN}\nold table\n{role_docs.END}\n\nMore text.\n')
    assert any('out of date' in p for p in role_docs.process(role, check=True))
    assert role_docs.process(role, check=False) == []
    readme = (role / 'README.md').read_text()
    assert '| `demo_mode` | str | `fast` | How `demo` runs. One of: `fast`, `slow`. |' in readme
    assert readme.endswith(f'{role_docs.END}\n\nMore text.\n') and 'old table' not in readme
    assert role_docs.process(role, check=True) == []


def test_every_role_readme_is_generated_and_has_no_spec_markup():
    for name in sorted(os.listdir(os.path.join(ROOT, 'roles'))):
        path = os.path.join(ROOT, 'roles', name, 'README.md')
        if not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8') as handle:
            readme = handle.read()
        if role_docs.BEGIN not in readme:
            continue  # a role still being written; role_docs.py --check reports it
        table = readme.split(role_docs.BEGIN, 1)[1].split(role_docs.END, 1)[0]
        for marker in ('C(', 'V(', 'O(', 'I(', 'B(', 'U(', 'L('):
            assert f' {marker}' not in table and f'({marker}' not in table, (name, marker)
