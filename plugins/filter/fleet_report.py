# Copyright (c) 2026, llmops.ollama maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report: per-host facts and the inventory's pins in, rows with drift flags out (fleet_report), and
the report as one self-contained HTML page (fleet_report_html). playbooks/report.yml and the tests share both.
"""

import collections
import datetime
import html
import json

from ansible.errors import AnsibleFilterError

SCHEMA_VERSION = 1

# Columns of the HTML table: (key, heading). The drift flags name the same keys (models as "model:<name>").
COLUMNS = (
    ('host', 'Host'), ('group', 'Group'), ('status', 'Status'), ('gpus', 'GPUs'), ('driver', 'Driver'),
    ('toolkit_version', 'Container Toolkit'), ('docker_version', 'Docker'), ('ollama_version', 'Ollama'),
    ('ollama_mode', 'Mode'), ('models', 'Models'), ('loaded', 'Loaded (GPU share)'),
    ('tokens_per_second', 'Tokens/s'), ('certificate', 'Certificate expires'), ('firewall', 'Firewall'),
    ('last_converge', 'Last converged'), ('vram_plan', 'GPU memory plan'),
)


def _model_name(name):
    """Ollama's short form: a name without a tag means :latest."""
    return name if ':' in name.rsplit('/', 1)[-1] else name + ':latest'


def _when(text):
    """An ISO 8601 time (with Z, an offset or nanoseconds) or an ASN.1 time as an aware datetime, or None."""
    if not text:
        return None
    text = str(text).strip()
    if len(text) == 15 and text.endswith('Z') and text[:14].isdigit():
        # ASN.1 time, as x509_certificate_info returns not_after.
        return datetime.datetime.strptime(text, '%Y%m%d%H%M%SZ').replace(tzinfo=datetime.timezone.utc)
    text = text.replace('Z', '+00:00')
    if '.' in text:
        head, rest = text.split('.', 1)
        digits = len(rest) - len(rest.lstrip('0123456789'))
        text = head + '.' + rest[:min(digits, 6)] + rest[digits:]
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _majority(values):
    """(expected value, basis) from the values a group reports: the most common one, or, when values tie for most,
    all of them joined (basis no-majority), which no host matches: a split group is drift on every host."""
    counts = collections.Counter(values).most_common()
    if not counts:
        return None, 'majority'
    tied = sorted(value for value, count in counts if count == counts[0][1])
    if len(tied) > 1:
        return ' or '.join(tied), 'no-majority'
    return counts[0][0], 'majority'


BASIS_WORDS = {'pin': 'pinned', 'majority': 'group majority', 'no-majority': 'group split between'}


def _host_values(facts):
    """The values drift is computed on, from one host's gathered facts (None when the host does not report one)."""
    ollama = facts.get('ollama') or {}
    gpus = facts.get('gpus') or []
    drivers = sorted({g.get('driver_version') for g in gpus if g.get('driver_version')})
    return {
        'ollama_version': ollama.get('version') if ollama.get('reachable') else None,
        'ollama_mode': ollama.get('mode'),
        'driver': ', '.join(drivers) or None,
        'driver_branch': ', '.join(sorted({d.split('.')[0] for d in drivers})) or None,
        'toolkit_version': facts.get('toolkit_version') or None,
        'docker_version': facts.get('docker_version') or None,
        'digests': {_model_name(m['name']): m.get('digest') for m in ollama.get('models') or []},
    }


def fleet_report(hosts, pins=None, generated_at=None, cert_warn_days=30):
    """Rows with drift flags for a fleet.

    hosts: {host: facts} as playbooks/report.yml gathers them (reachable, error, group, gpus, toolkit_version,
    docker_version, ollama{reachable, version, mode, models, running, error}, tokens_per_second, certificate,
    firewall, last_converge). pins: {host: {ollama_version, ollama_install_mode, nvidia_driver_branch,
    model_digests, models, behind_proxy}}, each optional: what the inventory says the host must run.
    A value differs from its pin, or without a pin from the majority of the hosts of the host's group that
    report one; models loaded outside GPU memory, declared models missing, a certificate expiring within
    cert_warn_days and an inactive firewall in front of a proxied host are flagged too.
    """
    if not isinstance(hosts, dict):
        raise AnsibleFilterError('fleet_report expects a dict of host names to gathered facts, got %s' % type(hosts).__name__)
    pins = pins or {}
    now = _when(generated_at) or datetime.datetime.now(datetime.timezone.utc)
    values = {name: _host_values(facts) for name, facts in hosts.items() if facts.get('reachable')}
    groups = collections.defaultdict(list)
    for name in values:
        groups[hosts[name].get('group') or 'ollama_servers'].append(name)

    def expected(name, key, pin):
        """(expected value, basis) for one host: its pin, else its group's majority."""
        if pin not in (None, ''):
            return str(pin), 'pin'
        peers = [values[p][key] for p in groups[hosts[name].get('group') or 'ollama_servers']
                 if values[p][key] is not None]
        return _majority(peers)

    rows, unreachable = [], []
    for name in sorted(hosts):
        facts, pin = hosts[name], pins.get(name) or {}
        row = {'host': name, 'group': facts.get('group') or 'ollama_servers', 'reachable': bool(facts.get('reachable')),
               'drift': []}
        if not row['reachable']:
            row['error'] = facts.get('error') or 'unreachable'
            unreachable.append(name)
            rows.append(row)
            continue
        mine, ollama = values[name], facts.get('ollama') or {}
        row.update({
            'gpus': facts.get('gpus') or [], 'gpu_message': facts.get('gpu_message') or '',
            'driver': mine['driver'], 'toolkit_version': mine['toolkit_version'],
            'docker_version': mine['docker_version'], 'ollama_reachable': bool(ollama.get('reachable')),
            'ollama_version': mine['ollama_version'], 'ollama_mode': mine['ollama_mode'],
            'ollama_error': ollama.get('error'),
            'models': [{'name': _model_name(m['name']), 'digest': m.get('digest'), 'size': m.get('size')}
                       for m in ollama.get('models') or []],
            'loaded': [], 'tokens_per_second': facts.get('tokens_per_second'),
            'certificate': facts.get('certificate'), 'firewall': facts.get('firewall'),
            'last_converge': facts.get('last_converge'),
        })

        def flag(field, value, want, basis, message):
            row['drift'].append({'field': field, 'value': value, 'expected': want, 'basis': basis, 'message': message})

        if not row['ollama_reachable']:
            flag('ollama_version', None, None, 'rule', 'Ollama does not answer: %s' % (ollama.get('error') or 'unknown error'))
        for key, pin_value, label in (('ollama_version', pin.get('ollama_version'), 'Ollama version'),
                                      ('driver_branch', pin.get('nvidia_driver_branch'), 'driver branch'),
                                      ('toolkit_version', None, 'Container Toolkit'),
                                      ('docker_version', None, 'Docker')):
            if key == 'ollama_version' and not row['ollama_reachable']:
                continue
            want, basis = expected(name, key, pin_value)
            # Without a pin, a host that reports nothing (no Docker on a native host) is not drift.
            if want is not None and mine[key] != want and (basis == 'pin' or mine[key] is not None):
                field = 'driver' if key == 'driver_branch' else key
                flag(field, mine[key], want, basis, '%s %s, %s %s' % (
                    label, mine[key] or 'none', BASIS_WORDS[basis], want))
        mode_pin = pin.get('ollama_install_mode')
        if mode_pin and mine['ollama_mode'] != mode_pin:
            flag('ollama_mode', mine['ollama_mode'], mode_pin, 'pin',
                 'installed %s, inventory says %s' % (mine['ollama_mode'] or 'nothing', mode_pin))

        digest_pins = {_model_name(k): v for k, v in (pin.get('model_digests') or {}).items()}
        for model in row['models']:
            want, basis = digest_pins.get(model['name']), 'pin'
            if want is None:
                peers = [values[p]['digests'][model['name']] for p in groups[row['group']]
                         if model['name'] in values[p]['digests']]
                want, basis = _majority(peers)
            if want is not None and model['digest'] != want:
                flag('model:' + model['name'], model['digest'], want, basis, '%s digest %s, %s %s' % (
                    model['name'], (model['digest'] or '')[:12], BASIS_WORDS[basis],
                    ' or '.join(d[:12] for d in want.split(' or '))))
        for declared in sorted({_model_name(m) for m in pin.get('models') or []} - set(mine['digests'])):
            if row['ollama_reachable']:
                flag('model:' + declared, None, 'installed', 'pin', '%s is in the inventory but not installed' % declared)

        for model in ollama.get('running') or []:
            size, in_vram = model.get('size') or 0, model.get('size_vram') or 0
            share = round(100.0 * in_vram / size, 1) if size else 0.0
            row['loaded'].append({'name': _model_name(model['name']), 'size': size, 'size_vram': in_vram,
                                  'gpu_percent': share})
            if in_vram < size:
                flag('loaded:' + _model_name(model['name']), share, 100.0, 'rule', '%s runs %s%% on the GPU%s' % (
                    _model_name(model['name']), share, ', entirely on the CPU' if in_vram == 0 else ''))

        cert = row['certificate']
        if cert and cert.get('not_after'):
            expires = _when(cert['not_after'])
            cert['days_left'] = (expires - now).days if expires else None
            if cert['days_left'] is not None and cert['days_left'] < int(cert_warn_days):
                flag('certificate', cert['not_after'], '>= %s days' % cert_warn_days, 'rule',
                     'proxy certificate expires in %d days' % cert['days_left'])
        if pin.get('behind_proxy', True) and row['firewall'] not in (None, 'active'):
            flag('firewall', row['firewall'], 'active', 'rule', 'firewall %s in front of the proxy' % row['firewall'])
        rows.append(row)

    summary = {
        'hosts': len(rows), 'reachable': len(rows) - len(unreachable), 'unreachable': len(unreachable),
        'drifted': len([r for r in rows if r['drift']]),
        'gpus': sum(len(r.get('gpus') or []) for r in rows),
        'models_on_cpu': len([f for r in rows for f in r['drift'] if f['field'].startswith('loaded:')]),
        'ollama_down': len([r for r in rows if r['reachable'] and not r['ollama_reachable']]),
    }
    return {'schema_version': SCHEMA_VERSION, 'generated_at': now.isoformat(), 'summary': summary,
            'unreachable': unreachable, 'hosts': rows}


def _column(field):
    """The column a drift flag marks: model:<name> in models, loaded:<name> in loaded."""
    prefix = field.split(':', 1)[0]
    return 'models' if prefix == 'model' else prefix


def _size(value):
    value = float(value or 0)
    for unit in ('B', 'KB', 'MB', 'GB'):
        if value < 1000:
            return '%.0f %s' % (value, unit) if unit == 'B' else '%.1f %s' % (value, unit)
        value /= 1000
    return '%.1f TB' % value


def _cells(row):
    """{column: (text or HTML, sort key)} for one host."""
    esc = html.escape
    drifted = {f['field'] for f in row['drift']}
    if not row['reachable']:
        return {'host': (esc(row['host']), row['host']), 'group': (esc(row['group']), row['group']),
                'status': ('unreachable: %s' % esc(row['error']), '0')}
    gpus = row['gpus']
    gpu_text = '<br>'.join('%s, %s / %s MiB' % (esc(g.get('name') or '?'), g.get('memory_used_mib'), g.get('memory_total_mib'))
                           for g in gpus) or '<span title="%s">no GPU</span>' % esc(row.get('gpu_message') or '')

    def item(field, text):
        return '<span class="drift" data-field="%s">%s</span>' % (esc(field), text) if field in drifted else text

    models = '<br>'.join(item('model:' + m['name'], '%s <code>%s</code> %s' % (
        esc(m['name']), esc((m['digest'] or '')[:12]), _size(m['size']))) for m in row['models'])
    models += ''.join('<br>' + item(f['field'], '%s missing' % esc(f['field'][6:]))
                      for f in row['drift'] if f['field'].startswith('model:') and f['value'] is None)
    loaded = '<br>'.join(item('loaded:' + m['name'], '%s %s%% GPU (%s)' % (esc(m['name']), m['gpu_percent'], _size(m['size'])))
                         for m in row['loaded']) or 'none'
    cert = row.get('certificate') or {}
    converge = row.get('last_converge') or {}
    tps = row.get('tokens_per_second')
    status = 'ok' if not row['drift'] else '%d drift' % len(row['drift'])
    return {
        'host': (esc(row['host']), row['host']), 'group': (esc(row['group']), row['group']),
        'status': (status, '2' if not row['drift'] else '1'),
        'gpus': (gpu_text, len(gpus)), 'driver': (esc(row['driver'] or 'none'), row['driver'] or ''),
        'toolkit_version': (esc(row['toolkit_version'] or 'none'), row['toolkit_version'] or ''),
        'docker_version': (esc(row['docker_version'] or 'none'), row['docker_version'] or ''),
        'ollama_version': (esc(row['ollama_version'] or 'down'), row['ollama_version'] or ''),
        'ollama_mode': (esc(row['ollama_mode'] or 'none'), row['ollama_mode'] or ''),
        'models': (models or 'none', len(row['models'])), 'loaded': (loaded, len(row['loaded'])),
        'tokens_per_second': ('%.1f' % tps if tps is not None else '-', tps if tps is not None else -1),
        'certificate': ('%s (%s days)' % (esc(cert['not_after']), cert.get('days_left')) if cert.get('not_after')
                        else esc(cert.get('error') or 'none'), cert.get('days_left', -1) if cert.get('not_after') else -1),
        'firewall': (esc(row['firewall'] or 'unknown'), row['firewall'] or ''),
        'last_converge': (esc(converge.get('converged_at') or 'never recorded'), converge.get('converged_at') or ''),
        'vram_plan': _plan_cell(converge.get('vram_plan')),
    }


def _plan_cell(plan):
    """The settings of the ollama role's GPU memory plan at the last converge, those the plan chose apart from
    those ollama_settings gave (the plan's `chosen`), with its reasons as a tooltip."""
    settings = (plan or {}).get('settings') or {}
    if not settings:
        return ('none', '')
    chosen = plan.get('chosen') or {}
    groups = []
    for css, label in (('planned', 'plan'), ('given', 'given in ollama_settings')):
        # The role records `chosen` with every plan; a setting it does not name counts as planned.
        keys = [key for key in sorted(settings) if (chosen.get(key, 'plan') == 'plan') == (css == 'planned')]
        if keys:
            groups.append((css, label, ' '.join('%s=%s' % (key.replace('OLLAMA_', ''), _setting_text(settings[key]))
                                                for key in keys)))
    text = '; '.join('%s: %s' % (label, values) for unused_css, label, values in groups)
    cell = '<br>'.join('<span class="%s">%s: %s</span>' % (css, html.escape(label), html.escape(values))
                       for css, label, values in groups)
    reasons = '; '.join(str(reason) for reason in (plan.get('reasons') or []))
    return ('<span title="%s">%s</span>' % (html.escape(reasons), cell), text)


def _setting_text(value):
    """A setting as the server's environment holds it (booleans as true/false)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


STYLE = '''body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
.summary{display:flex;gap:1em;margin-bottom:1em}.summary div{border:1px solid #ccc;border-radius:4px;padding:.5em 1em}
.summary b{display:block;font-size:1.6em}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
th{background:#f0f0f0;cursor:pointer;user-select:none}th[aria-sort=ascending]::after{content:" \\25B2"}
th[aria-sort=descending]::after{content:" \\25BC"}td.drift,span.drift{background:#ffd6d6;color:#900}span.drift{font-weight:bold}
td[data-column=host]{white-space:nowrap}
tr.unreachable td{background:#eee;color:#666}code{font-size:.9em}ul{margin:.3em 0}span.given{font-style:italic}'''

SCRIPT = '''document.querySelectorAll("#fleet th").forEach(function (th, col) {
  th.addEventListener("click", function () {
    var body = document.querySelector("#fleet tbody"), up = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("#fleet th").forEach(function (o) { o.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    Array.prototype.slice.call(body.rows).sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
      var n = parseFloat(x) - parseFloat(y), r = isNaN(n) ? x.localeCompare(y) : n;
      return up ? r : -r;
    }).forEach(function (row) { body.appendChild(row); });
  });
});
// A link can carry its sort: report.html#sort=ollama_version or #sort=-ollama_version (descending).
var wanted = /^#sort=(-?)([a-z_]+)$/.exec(location.hash);
if (wanted) {
  var th = document.querySelector('#fleet th[data-column="' + wanted[2] + '"]');
  if (th) { th.click(); if (wanted[1]) { th.click(); } }
}
document.body.setAttribute("data-ready", "true");'''


def fleet_report_html(report):
    """The report of fleet_report as one HTML page with its CSS and JS inline (for air-gapped sites)."""
    if not isinstance(report, dict) or 'hosts' not in report:
        raise AnsibleFilterError('fleet_report_html expects the result of llmops.ollama.fleet_report')
    esc = html.escape
    summary = report['summary']
    cards = ''.join('<div id="summary-%s"><b>%s</b>%s</div>' % (key, summary[key], label) for key, label in (
        ('hosts', 'hosts'), ('reachable', 'reachable'), ('unreachable', 'unreachable'), ('drifted', 'drifted'),
        ('models_on_cpu', 'models on the CPU'), ('ollama_down', 'Ollama down'), ('gpus', 'GPUs')))
    head = ''.join('<th data-column="%s">%s</th>' % (key, esc(title)) for key, title in COLUMNS)
    lines = []
    for row in report['hosts']:
        cells = _cells(row)
        drifted = {_column(f['field']) for f in row['drift']}
        tds = []
        for key, unused_title in COLUMNS:
            text, sort = cells.get(key, ('', ''))
            reasons = [f['message'] for f in row['drift'] if _column(f['field']) == key]
            tds.append('<td data-column="%s" data-sort="%s"%s%s>%s</td>' % (
                key, esc(str(sort)), ' class="drift"' if key in drifted else '',
                ' title="%s"' % esc('; '.join(reasons)) if reasons else '', text))
        lines.append('<tr data-host="%s"%s>%s</tr>' % (esc(row['host']), '' if row['reachable'] else ' class="unreachable"',
                                                       ''.join(tds)))
    details = ''.join('<li><b>%s</b>: %s</li>' % (esc(r['host']), esc('; '.join(f['message'] for f in r['drift'])))
                      for r in report['hosts'] if r['drift'])
    gone = ''.join('<li>%s: %s</li>' % (esc(r['host']), esc(r['error'])) for r in report['hosts'] if not r['reachable'])
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Ollama fleet report %s</title>'
            '<style>%s</style></head><body><h1>Ollama fleet report</h1><p>Generated %s</p>'
            '<div class="summary">%s</div><table id="fleet"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>'
            '<h2>Drift</h2><ul id="drift">%s</ul><h2>Unreachable hosts</h2><ul id="unreachable">%s</ul>'
            '<script type="application/json" id="report-data">%s</script><script>%s</script></body></html>\n') % (
        esc(report['generated_at']), STYLE, esc(report['generated_at']), cards, head, '\n'.join(lines),
        details or '<li>none</li>', gone or '<li>none</li>', json.dumps(report).replace('</', '<\\/'), SCRIPT)


class FilterModule:

    def filters(self):
        return {'fleet_report': fleet_report, 'fleet_report_html': fleet_report_html}
