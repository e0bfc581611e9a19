"""The ViT through the `sel_bench` command: `--set model=vit` runs the Baseline and per-head freezing end to end (the
report names the network), and a system that needs the ViT, or a network that does not exist, is refused in one line."""
import pandas as pd
from conftest import BIN, run

SEL_BENCH = str(BIN/'sel_bench')

def bench(*args, **kw): return run([SEL_BENCH, *map(str, args), '--no-progress'], **kw)

def test_vit_smoke_runs_baseline_and_head_freezing(tmp_path):
    out = tmp_path/'vit'
    r = bench('--preset', 'smoke', '--set', 'model=vit', '--experiments', 'baseline', 'head_freeze', '--seeds', '0', '--out', out)
    assert 'ViT 64×4 blocks, 4 heads, patch 4' in r.stdout
    assert 'ViT 64×4 blocks' in (out/'summary.txt').read_text() and 'ViT 64×4 blocks' in (out/'index.html').read_text()
    summary = pd.read_csv(out/'summary.csv', index_col=0)
    assert list(summary.index) == ['baseline', 'head_freeze']
    executed = summary['flops_measured_T_mean']
    assert executed['head_freeze'] <= executed['baseline']  # frozen heads' weight gradients are not computed
    assert len(pd.read_csv(out/'seed0'/'hist_head_freeze.csv')) == 2

def test_head_freezing_needs_the_vit(tmp_path):
    r = bench('--preset', 'smoke', '--experiments', 'head_freeze', '--out', tmp_path/'x', check=False)
    assert r.returncode == 2 and r.stderr.strip().count('\n') == 0
    assert "needs model=vit, the preset has model=resnet18 (add --set model=vit)" in r.stderr
    assert not (tmp_path/'x').exists()

def test_unknown_model_is_refused(tmp_path):
    r = bench('--preset', 'smoke', '--set', 'model=vgg', '--out', tmp_path/'x', check=False)
    assert r.returncode == 2 and r.stderr.strip() == "sel_bench: error: --set: model must be one of resnet18, vit, got 'vgg'"

def test_head_only_backward_runs_no_flop_outside_the_head():
    "With only the classifier training, the backward computes its weight gradient and nothing else (the gates need no gradient unless asked)."
    import torch, torch.nn.functional as F
    from torch.utils.flop_counter import FlopCounterMode
    from sel_nb.vit import build_vit, track_gates
    torch.manual_seed(0)
    vit = build_vit(10, (1, 28, 28), dim=32, depth=2, heads=4, patch=7, device='cpu')
    for n, p in vit.named_parameters(): p.requires_grad_(n.startswith(f'{len(vit) - 1}.fc.'))
    x, y = torch.randn(4, 1, 28, 28), torch.randint(0, 10, (4,))
    with FlopCounterMode(display=False) as fc: loss = F.cross_entropy(vit(x), y)
    forward = fc.get_total_flops()
    with FlopCounterMode(display=False) as fc: loss.backward()
    assert fc.get_total_flops() == 2 * 4 * 32 * 10, f"head-only backward ran {fc.get_total_flops()} FLOPs against forward {forward}"
    track_gates(vit)  # a callback asking for the gates' gradients pays the backward through the blocks
    with FlopCounterMode(display=False) as fc: F.cross_entropy(vit(x), y).backward()
    assert fc.get_total_flops() > 1.5 * forward

def test_the_matched_control_freezes_as_many_heads_per_layer_at_every_check(tmp_path):
    "head_freeze_matched replays head_freeze's counts (layer by layer, check by check) with heads drawn at random; listed first, it is refused in one line."
    from sel_nb.faults import load_checkpoint
    from sel_nb.vit import head_trace
    out = tmp_path/'matched'
    bench('--preset', 'smoke', '--set', 'model=vit', 'head_threshold=0.9', '--experiments', 'head_freeze', 'head_freeze_matched', '--seeds', '0', '--out', out)
    guilt, matched = (head_trace(load_checkpoint(out/'ckpt'/f'seed0_{k}.pt')) for k in ('head_freeze', 'head_freeze_matched'))
    def counts(trace): return [[sum(l == k for l, _ in t['frozen']) for k in range(4)] for t in trace]
    assert counts(guilt) == counts(matched) and sum(counts(guilt)[-1]) > 0
    r = bench('--preset', 'smoke', '--set', 'model=vit', '--experiments', 'head_freeze_matched', '--out', tmp_path/'x', check=False)
    assert r.returncode == 2 and r.stderr.strip() == "sel_bench: error: 'head_freeze_matched' reads head_freeze's run in the same folder: list head_freeze before it"
