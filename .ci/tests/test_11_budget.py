"""Budgeted runs end to end: each stops within one batch of its budget with its scoring passes charged, the regimes
change the training labels and counts only, a budgeted run killed in the middle resumes with the same rows, and the
study writes its verdicts and its frontier; bad budgets and regime settings are one line."""
import json, signal
from pathlib import Path
import pandas as pd
import pytest
import torch
from conftest import run, in_process
from test_2_bench_cli import bench, bench_main, faulty, error_line, rows, assert_same_rows
from sel_nb.data import synthetic
from sel_nb.presets import PRESETS, preset_model
from sel_nb.record import with_settings
from sel_nb.budget import regime_train, long_tail_counts
from sel_nb.measure import Accounting
from sel_nb.study import write_matrix
from sel_nb.study_folders import study_runs

BUDGETED = ('baseline', 'baseline_half', 'rs2', 'selective', 'random_subset', 'rho_loss', 'class_balanced', 'logit_adjusted')
REGIME = ('imbalance=10', 'label_noise=0.2')
PRESET = with_settings(PRESETS['smoke'], REGIME)

@pytest.fixture(scope='module')
def study(tmp_path_factory):
    "One uninterrupted smoke study: two budgets, the budgeted systems and SEL-95% at its own budget, long-tailed and noisy."
    out, cache = tmp_path_factory.mktemp('budget')/'run', tmp_path_factory.mktemp('irreducible')
    bench('--preset', 'smoke', '--budgets', '0.5', '1', '--experiments', *BUDGETED, 'sel95', '--set', *REGIME, f'rho_cache={cache}', '--out', out)
    return out

def smoke_data(): return synthetic(1500, 300, channels=1, size=16)  # the smoke preset's data

def costs():
    "Per-sample executed FLOPs of the smoke model's training step and forward pass, and the regime's training set size."
    train = regime_train(smoke_data()[0], PRESET, 0)
    acct = Accounting(preset_model(PRESET, 10, (1, 16, 16), 'cpu'), (1, 16, 16))
    return acct.per_sample, len(train)

def last(out, key, col='flops_measured_T'): return pd.read_csv(out/'seed0'/f'hist_{key}.csv')[col].iloc[-1]

def test_budgeted_runs_stop_within_one_batch_of_their_budget(study):
    flops, n = costs()
    unit = PRESET.baseline_epochs * n * flops.total / 1e12
    bs, big = PRESET.batch_size, round(PRESET.batch_size / PRESET.rho_ratio)
    batch = dict(selective=bs // 2 * flops.total + bs * flops.forward, random_subset=bs // 2 * flops.total, baseline_half=bs // 2 * flops.total,
                 rho_loss=bs * flops.total + big * flops.forward)
    for b in (0.5, 1):
        for key in BUDGETED:
            spent = last(study/f'budget_{b:g}', key)
            assert b * unit <= spent < b * unit + batch.get(key, bs * flops.total) / 1e12, (b, key, spent / unit)

def test_scoring_passes_are_charged_to_the_budget(study):
    "At one budget, fresh Selective Backprop trains on fewer samples than the random half, by its selection forwards."
    flops, _ = costs()
    for b in (0.5, 1):
        trained = {k: last(study/f'budget_{b:g}', k, 'flops_T') for k in ('selective', 'random_subset')}  # the seed's count: ∝ samples trained
        expect = flops.total / (flops.total + 2 * flops.forward)  # each kept sample also pays for scoring two
        assert trained['selective'] / trained['random_subset'] == pytest.approx(expect, rel=0.08)
    final = json.loads((study/'budget_0.5'/'seed0'/'final_rho_loss.json').read_text())
    assert final['uncharged_T'] > 0 and final['budget'] == 0.5  # RHO-LOSS's model: reported, not charged

def test_regimes_change_training_labels_and_counts_only(study):
    train, test = smoke_data()
    t = regime_train(train, PRESET, 0)
    assert torch.bincount(t.y, minlength=10).sum() == sum(long_tail_counts(150, 10, 10))
    clean = regime_train(train, with_settings(PRESETS['smoke'], ['imbalance=10']), 0)
    assert torch.equal(clean.x, t.x)  # the same images, the labels noised
    assert torch.bincount(clean.y, minlength=10).tolist() == long_tail_counts(150, 10, 10)
    changed = t.y != clean.y
    assert changed.sum() == round(0.2 * len(t)) and (t.y[changed] != clean.y[changed]).all()
    assert torch.equal(regime_train(train, PRESET, 0).y, t.y) and not torch.equal(regime_train(train, PRESET, 1).y, t.y)
    snap = json.loads((study/'budget_1'/'seed0'/'final_baseline.json').read_text())['snapshot']
    assert snap['label'] == test.y[snap['idx']].tolist()  # evaluated against the test set's own labels

def test_the_half_batch_control_is_charged_like_the_baseline(study):
    "The dense control at the half batch: twice the Baseline's steps, every sample a full step, nothing uncharged."
    flops, _ = costs()
    for b in (0.5, 1):
        final = {k: json.loads((study/f'budget_{b:g}'/'seed0'/f'final_{k}.json').read_text()) for k in ('baseline', 'baseline_half')}
        assert final['baseline_half']['uncharged_T'] == final['baseline']['uncharged_T'] == 0 and final['baseline_half']['budget'] == b
        trained = {k: last(study/f'budget_{b:g}', k, 'flops_T') for k in final}  # the seed's count: ∝ samples trained
        assert trained['baseline_half'] == pytest.approx(trained['baseline'], rel=0.05)  # the same samples, at half the batch

def test_rho_losss_model_is_trained_once_per_seed_and_regime(study):
    "Both budgets read one irreducible-loss model, whose accuracy and cost (FLOPs and seconds) are in its .json."
    runs = study_runs(study)
    rho = runs[runs.experiment == 'rho_loss']
    assert rho.uncharged_T.nunique() == 1  # the same model's cost at both budgets
    folder = Path(json.loads((study/'budget_1'/'config.json').read_text())['preset']['rho_cache'])
    saved = [json.loads(f.read_text()) for f in folder.glob('irreducible_*.json')]
    assert len(saved) == 1 and saved[0]['seed'] == 0 and 0 < saved[0]['accuracy'] <= 1 and saved[0]['epochs'] >= 1
    assert saved[0]['flops'] / 1e12 == pytest.approx(rho.uncharged_T.iloc[0]) and saved[0]['seconds'] > 0  # its time, for the wall-clock frontier
    for b in (0.5, 1):  # and each run's own record says how good the model was
        final = json.loads((study/f'budget_{b:g}'/'seed0'/'final_rho_loss.json').read_text())
        assert final['prepared'] == dict(irreducible_accuracy=saved[0]['accuracy'], irreducible_epochs=saved[0]['epochs'])

def test_a_budgeted_run_killed_in_the_middle_resumes_with_the_same_rows(study, tmp_path):
    out, systems = tmp_path/'run', ['selective', 'rho_loss']
    args = ('--budgets', '0.5', '--experiments', *systems, '--set', *REGIME)
    r = faulty(out, *args, fault='kill@batch,system=rho_loss,epoch=2,batch=2')
    assert r.returncode == -signal.SIGKILL and rows(out/'budget_0.5'/'seed0'/'hist_rho_loss.csv') == 1
    assert faulty(out, *args, '--resume').returncode == 0
    assert_same_rows(out/'budget_0.5', study/'budget_0.5', systems, files=('hist', 'points'))

def test_the_study_writes_its_verdicts_and_frontier(study, tmp_path):
    runs = study_runs(study)
    assert set(runs.experiment) == {*BUDGETED, 'sel95'} and len(runs) == 2 * len(BUDGETED) + 1
    rho = runs[runs.experiment == 'rho_loss']
    assert (rho.charged > rho.budget).all() and (runs[runs.experiment != 'rho_loss'].charged == runs[runs.experiment != 'rho_loss'].budget).all()
    sel = runs[runs.experiment == 'sel95'].iloc[0]
    assert sel.natural and 0 < sel.budget < 2
    v = pd.read_csv(study/'verdicts.csv')
    assert len(v) == 2 * 2 * 6  # 2 budgets × 2 contenders (selective, RHO-LOSS) × 6 controls
    assert (study/'frontier.png').stat().st_size > 0 and 'budget 0.5: best' in (study/'verdicts.txt').read_text()
    m = write_matrix({'long-tailed, noisy': study}, tmp_path)
    assert len(m) == 2 and (tmp_path/'frontier.png').stat().st_size > 0

@pytest.mark.parametrize('args,says', [
    (('--budgets', '0'), '--budgets takes positive shares'),
    (('--budgets', '0.5', '0.5'), 'names a budget twice'),
    (('--budgets', '0.5', '--nproc', '2'), 'budgeted runs are one process'),
    (('--set', 'label_noise=1'), 'label_noise must be a share in [0, 1)'),
    (('--set', 'imbalance=0.5'), 'imbalance must be at least 1'),
    (('--set', 'schedule=step'), 'schedule must be one of linear, cosine'),
])
def test_bad_budgets_and_regimes_are_one_line(tmp_path, args, says):
    error_line(in_process(bench_main, '--preset', 'smoke', '--out', tmp_path/'run', *args, '--no-progress'), says)
    assert not (tmp_path/'run').exists()
