"""`sel_finetune`, the fine-tuning command, as a user runs it: a run killed after some of its rows and continued with
`--resume` gives the uninterrupted run's rows; a validation run chooses each method's rate from the grid; the committed
pretrained networks are far above chance; bad input gets one line."""
import json, os, subprocess, sys
import pandas as pd
import pytest
from conftest import ROOT, BIN, in_process
from sel_nb.finetune_run import finetune_main

def finetune(out, *args, fault=None, here=False):
    "The command (the console script once `.ci/setup` has installed it; else its function, as the script calls it); `here`: its function in this process (bad input)."
    argv = ['--preset', 'smoke', '--models', 'vit', '--methods', 'head', 'lora', '--seeds', '0', '1', '--per-class', '40',
            '--pre-epochs', '1', '--epochs', '1', '--device', 'cpu', '--out', str(out), *map(str, args)]
    if here: return in_process(finetune_main, *argv)
    cmd = [str(BIN/'sel_finetune')] if (BIN/'sel_finetune').exists() else [sys.executable, '-c', 'from sel_nb.finetune_run import finetune_main; finetune_main()']
    env = {k: v for k, v in os.environ.items() if k != 'SEL_FAULT'} | ({'SEL_FAULT': fault} if fault else {}) | {'OMP_NUM_THREADS': '1'}
    r = subprocess.run(cmd + argv, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return r

@pytest.fixture(scope='module')
def validation(tmp_path_factory):
    "A validation run over a grid of two rates."
    out = tmp_path_factory.mktemp('finetune')/'validation'
    r = finetune(out, '--validation', 20, '--lrs', 1e-3, 1e-2)
    assert r.returncode == 0, r.stderr
    return out

def test_a_validation_run_chooses_each_methods_rate(validation):
    runs = pd.read_csv(validation/'runs.csv')
    assert len(runs) == 2 * 2 * 2 and sorted(runs.lr.unique()) == [1e-3, 1e-2]
    chosen = json.loads((validation/'chosen.json').read_text())
    summary = pd.read_csv(validation/'summary.csv')
    for key, lr in chosen.items():
        model, method = key.split('/')
        s = summary[(summary.model == model) & (summary.method == method)]
        assert lr == s.loc[s.test_acc_mean.idxmax(), 'lr']
    config = json.loads((validation/'config.json').read_text())
    assert config['validation'] == 20 and config['command'].startswith('sel_finetune') and 'machine' in config
    assert json.loads((validation/'pretrained.json').read_text())['vit']['source_acc'] > 0

def test_kill_and_resume_gives_the_same_rows(validation, tmp_path):
    ref = tmp_path/'ref'
    assert finetune(ref, '--chosen', validation).returncode == 0
    out = tmp_path/'run'
    killed = finetune(out, '--chosen', validation, fault='kill@row,n=3')
    assert killed.returncode == -9, killed  # SIGKILL after its third row was written
    assert len(list(out.glob('seed*/final_*.json'))) == 3 and not (out/'runs.csv').exists()
    resumed = finetune(out, '--chosen', validation, '--resume')
    assert resumed.returncode == 0, resumed.stderr
    got, want = (pd.read_csv(d/'runs.csv').drop(columns='time_s') for d in (out, ref))
    pd.testing.assert_frame_equal(got, want, check_exact=True)

def test_bad_input_gets_one_line(validation, tmp_path):
    for args, says in [(('--methods', 'prefix'), "unknown method 'prefix'"), (('--chosen', tmp_path), 'holds no chosen.json'),
                       (('--lrs', '0'), 'positive learning rates')]:
        r = finetune(tmp_path/'x', *args, here=args[0] != '--methods')  # the first through the console command, the rest in this process
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('sel_finetune: error: ') and says in lines[0], r.stderr

def test_the_committed_pretrained_networks_are_far_above_chance():
    "The auxiliary every fine-tuning row depends on: each committed pretrained network knows its 5 source classes (chance: 20%)."
    for folder in ('finetune', 'finetune_validation'):
        pre = json.loads((ROOT/'results'/folder/'pretrained.json').read_text())
        assert set(pre) == {'resnet18', 'vit'}, (folder, sorted(pre))
        for model, p in pre.items(): assert p['source_acc'] > 0.8, (folder, model, p['source_acc'])
