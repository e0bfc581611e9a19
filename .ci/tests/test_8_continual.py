"""`sel_continual`, the continual-learning command, as a user runs it: a smoke run writes its tables, figure and page;
a run killed in the middle of the task sequence and continued with `--resume` gives the uninterrupted run's rows;
bad input gets one line and changes nothing."""
import hashlib, json, os, subprocess
import pandas as pd
import pytest
from conftest import ROOT, BIN, in_process
from sel_nb.continual import continual_main

SEL_CONTINUAL = str(BIN/'sel_continual')
SYSTEMS = ('replay200', 'ewc', 'sel_class', 'guilt_freeze', 'body_freeze')  # each keeps state across tasks: buffer, anchors, thresholds, frozen blocks

def continual(out, *args, fault=None, here=False):
    "The command on `out`; `here`: its function in this process (bad input)."
    argv = ['--preset', 'smoke', '--systems', *SYSTEMS, '--out', str(out), '--no-progress', *map(str, args)]
    if here: return in_process(continual_main, *argv)
    env = {k: v for k, v in os.environ.items() if k != 'SEL_FAULT'} | ({'SEL_FAULT': fault} if fault else {})
    r = subprocess.run([SEL_CONTINUAL, *argv], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return r

def digest(folder):
    return hashlib.sha256(b''.join(p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file())).hexdigest()

@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    "An uninterrupted smoke run of both scenarios."
    out = tmp_path_factory.mktemp('continual')/'ref'
    r = continual(out)
    assert r.returncode == 0, r.stderr
    return out

def test_a_run_writes_its_report(reference):
    for f in ('summary.csv', 'summary.txt', 'summary.json', 'continual.png', 'index.html', 'config.json', 'command.txt'):
        assert (reference/f).stat().st_size > 0, f
    runs = json.loads((reference/'summary.json').read_text())['runs']
    assert sorted((r['scenario'], r['system']) for r in runs) == sorted((s, k) for s in ('class', 'task') for k in SYSTEMS)
    assert all(len(r['R']) == 5 and r['status'] == 'done' for r in runs)
    summary = pd.read_csv(reference/'summary.csv', index_col=[0, 1])
    assert summary.loc[('task', 'ewc'), 'ACC_mean'] == pytest.approx([r for r in runs if r['scenario'] == 'task' and r['system'] == 'ewc'][0]['ACC'])
    page = (reference/'index.html').read_text()
    assert page.count('id="sel-data"') == 1 and '"label":"Replay, 200"' in page  # the results-page template, with this run's systems

@pytest.mark.parametrize('system,epoch', [('ewc', 3), ('replay200', 4)])
def test_kill_and_resume_in_the_middle_of_the_sequence_gives_the_same_rows(reference, tmp_path, system, epoch):
    out = tmp_path/'run'
    killed = continual(out, '--scenarios', 'class', fault=f'kill@epoch,system={system},epoch={epoch}')
    assert killed.returncode == -9, killed  # SIGKILL, with the epoch's row and checkpoint written
    hist = pd.read_csv(out/'class'/'seed0'/f'hist_{system}.csv')
    assert len(hist) == epoch and not (out/'class'/'seed0'/f'final_{system}.json').exists()
    resumed = continual(out, '--scenarios', 'class', '--resume')
    assert resumed.returncode == 0, resumed.stderr
    for key in SYSTEMS:
        got, want = (pd.read_csv(d/'class'/'seed0'/f'hist_{key}.csv').drop(columns='time_s') for d in (out, reference))
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        got, want = (json.loads((d/'class'/'seed0'/f'final_{key}.json').read_text()) for d in (out, reference))
        assert got['R'] == want['R'], key

def test_the_body_freeze_control_freezes_at_guilt_freezings_step(tmp_path):
    "The control freezes the whole body at the step guilt freezing had frozen it, in both scenarios (a threshold at which the smoke run freezes)."
    r = subprocess.run([SEL_CONTINUAL, '--preset', 'smoke', '--systems', 'guilt_freeze', 'body_freeze', '--set', 'freeze_threshold=1.5',
                        '--out', str(tmp_path), '--no-progress'], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for scenario in ('class', 'task'):
        guilt, body = (json.loads((tmp_path/scenario/'seed0'/f'final_{k}.json').read_text()) for k in ('guilt_freeze', 'body_freeze'))
        assert guilt['body_frozen_step'] is not None and body['body_frozen_step'] == guilt['body_frozen_step'], scenario
        assert body['R'] != guilt['R']  # the same moment, not the same run

def test_bad_input_gets_one_line_and_changes_nothing(reference):
    before = digest(reference)
    for args, says in [(('--scenarios', 'domain'), "unknown scenario 'domain'"),
                       (('--set', 'ewc_lamda=3'), '--set takes name=value'),
                       (('--systems', 'body_freeze', 'guilt_freeze'), 'list guilt_freeze before it'),
                       ((), 'already holds results; pass --resume')]:
        r = continual(reference, *args, here=bool(args))  # the last through the console command, the rest in this process
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('sel_continual: error: ') and says in lines[0], r.stderr
    assert digest(reference) == before
