"""The replay agents (issue 32): PER draws by p^α with its importance weights, the per-class draw follows its class
shares, a DQN step lowers the TD loss, `sel_rl` killed in the middle of a run and continued with `--resume` gives the
uninterrupted returns, and bad input gets one line."""
import json, os, subprocess, sys
import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from dataclasses import replace
from conftest import ROOT, BIN, in_process
from sel_nb.replay import PrioritizedReplay, ClassReplay, chi_square
from sel_nb.dqn import AGENTS, DQN, RL_PRESETS, td_errors, train_step

def empty(n): return np.zeros(n, np.float32)

def test_per_draws_each_transition_with_chance_p_alpha_and_weights_by_the_formula():
    p = np.array([0.05, 0.3, 1.0, 1.0, 2.5, 7.0])
    per = PrioritizedReplay(8, 2, seed=11, alpha=0.6, beta=0.5)
    for _ in p: per.add(empty(2), 0, 0., empty(2), False, False, False)
    per.update(np.arange(len(p)), torch.tensor(p - per.eps))
    idx, w = per.draw(50_000)
    want = p ** 0.6 / (p ** 0.6).sum()
    assert chi_square(np.bincount(idx, minlength=len(p)), want) < 20.52  # 5 degrees of freedom, 99.9% point
    assert chi_square(np.bincount(idx, minlength=len(p)), p / p.sum()) > 1000  # the wrong exponent is told apart
    np.testing.assert_allclose(w, (len(p) * want[idx]) ** -0.5 / (len(p) * want.min()) ** -0.5, rtol=1e-5)

def test_a_new_transition_gets_the_largest_priority():
    per = PrioritizedReplay(8, 2, seed=0, alpha=1.0)
    for _ in range(3): per.add(empty(2), 0, 0., empty(2), False, False, False)
    per.update(np.arange(3), torch.tensor([0.5, 4.0, 1.0]))
    per.add(empty(2), 0, 0., empty(2), False, False, False)
    assert per.tree.tree[per.tree.leaves + 3] == pytest.approx(4.0 + per.eps)

@pytest.mark.parametrize('key', ['action', 'outcome'])
def test_the_class_draw_matches_its_class_shares(key):
    cr = ClassReplay(1024, 2, seed=5, n_actions=3, key=key)
    g = np.random.default_rng(0)
    for i in range(600): cr.add(empty(2), int(g.integers(3)), 0., empty(2), bool(i % 7 == 6), bool(i % 7 == 6), bool(i % 5 == 0))
    td = torch.tensor(1.0 + 2.0 * cr.classes(np.arange(600)), dtype=torch.float64)  # class c: |δ| = 1 + 2c
    cr.update(np.arange(600), td)
    n = np.bincount(cr.classes(), minlength=cr.n_classes)
    want = n * (1 + 2 * np.arange(cr.n_classes)); want = want / want.sum()
    np.testing.assert_allclose(cr.shares(), want)
    idx, _ = cr.draw(40_000)
    seen = want > 0
    counts = np.bincount(cr.classes(idx), minlength=cr.n_classes)
    assert chi_square(counts[seen], want[seen]) < 16.27  # at most 3 degrees of freedom, 99.9% point
    assert chi_square(counts[seen], (n / n.sum())[seen]) > 500

def test_a_dqn_update_lowers_the_td_loss_on_a_fixed_batch():
    s = replace(RL_PRESETS['smoke']['Acrobot-v1'], batch=48)
    buf = AGENTS['uniform'].buffer(s, 6, 3, 0, 0.6)
    g = np.random.default_rng(1)
    for i in range(48): buf.add(g.normal(size=6), i % 3, -1.0, g.normal(size=6), False, False, False)
    dqn = DQN(6, 3, s, AGENTS['uniform'], lr=1e-3, seed=0)
    def loss():
        delta, _ = td_errors(dqn, *buf.batch(np.arange(48)))
        return F.smooth_l1_loss(delta, torch.zeros_like(delta)).item()
    before = loss()
    for _ in range(30): train_step(dqn, buf)
    assert loss() < 0.5 * before

SEL_RL = [str(BIN/'sel_rl')] if (BIN/'sel_rl').exists() else [sys.executable, '-c', 'import sys; from sel_nb.rl_study import rl_main; rl_main()']
ARGS = ('--preset', 'smoke', '--tasks', 'CartPole-v1', 'Acrobot-v1', '--agents', 'per', '--seeds', '0', '--no-progress')

def sel_rl(*args, fault=None):
    env = {k: v for k, v in os.environ.items() if k != 'SEL_FAULT'} | ({'SEL_FAULT': fault} if fault else {}) | {'OMP_NUM_THREADS': '1'}
    r = subprocess.run([*SEL_RL, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return r

def test_the_command_is_declared():
    assert 'sel_rl=sel_nb.rl_study:rl_main' in (ROOT/'settings.ini').read_text()

@pytest.mark.parametrize('agent', ['per', 'class_action', 'random_mask'])  # a sum tree; per-class rows of slots; a mask's controller and draws
def test_a_killed_run_resumes_with_the_same_returns(tmp_path, agent):
    ref, out, args = tmp_path/'ref', tmp_path/'run', tuple(agent if a == 'per' else a for a in ARGS)
    assert sel_rl(*args, '--out', str(ref)).returncode == 0
    killed = sel_rl(*args, '--out', str(out), fault='kill@checkpoint,task=Acrobot-v1,step=400')
    assert killed.returncode == -9, killed.stderr  # SIGKILL in the middle of the second run, after its second checkpoint
    assert len(pd.read_csv(out/'Acrobot-v1'/'seed0'/f'hist_{agent}.csv')) == 2 and not (out/'Acrobot-v1'/'seed0'/f'final_{agent}.json').exists()
    resumed = sel_rl(*args, '--out', str(out), '--resume')
    assert resumed.returncode == 0, resumed.stderr
    assert 'damaged' not in resumed.stdout + resumed.stderr and not list(out.rglob('*.damaged'))  # continued from its checkpoint, not from scratch
    for task in ('CartPole-v1', 'Acrobot-v1'):
        got, want = (pd.read_csv(d/task/'seed0'/f'hist_{agent}.csv').drop(columns='time_s') for d in (out, ref))
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    for f in ('summary.csv', 'summary.txt', 'returns.png', 'config.json', 'tuned.json'): assert (out/f).stat().st_size > 0, f

def test_the_console_command_says_a_bad_option_in_one_line(tmp_path):
    r = sel_rl('--out', str(tmp_path/'x'), '--agents', 'dqn')
    assert r.returncode == 2 and r.stderr.strip() == f"sel_rl: error: unknown agent 'dqn'; choose from {', '.join(AGENTS)}", r.stderr

@pytest.mark.parametrize('args,says', [  # the rest of `RLConfig`'s checks run in its chapter, in-process
    (('--agents', 'dqn'), "unknown agent 'dqn'"),
    (('--seeds', '1', '--tune-seeds', '1'), 'seed 1 is both a tuning and a reported seed'),
    (('--lr-scales', 'fast'), "invalid float value: 'fast'"),
    (('--bogus',), 'unrecognized arguments: --bogus')])
def test_a_bad_option_gets_one_line(tmp_path, args, says):
    from sel_nb.rl_study import rl_main
    r = in_process(rl_main, '--out', tmp_path/'x', '--no-progress', *args)
    assert r.returncode == 2 and says in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert not (tmp_path/'x').exists()
