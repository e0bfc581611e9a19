"""End-to-end tests of the `sel_bench` command: outputs, one-line errors that touch nothing, resume after a kill,
and the `paper` preset pinned to the seed's configuration and run for a couple of batches per system."""
import hashlib, signal, subprocess, time
import pandas as pd
import pytest
from conftest import BIN, ROOT, run

SEL_BENCH = str(BIN/'sel_bench')
SYSTEMS = ('baseline', 'lottery', 'sel95', 'warmup')

def bench(*args, **kw): return run([SEL_BENCH, *map(str, args), '--no-progress'], **kw)

@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
    "One uninterrupted smoke run, the reference for the other tests."
    out = tmp_path_factory.mktemp('smoke')/'run'
    bench('--preset', 'smoke', '--out', out)
    return out

def test_smoke_writes_histories_summary_and_figures(smoke_run):
    for s in SYSTEMS: assert (smoke_run/'seed0'/f'hist_{s}.csv').stat().st_size > 0
    for f in ('summary.csv', 'summary.json', 'summary.txt', 'benchmark_results.png', 'thermal_snapshot.png', 'config.json', 'command.txt'):
        assert (smoke_run/f).stat().st_size > 0, f
    assert (smoke_run/'command.txt').read_text().startswith('sel_bench --preset smoke')
    summary = pd.read_csv(smoke_run/'summary.csv', index_col=0)
    assert list(summary.index) == list(SYSTEMS) and (summary.n_seeds == 1).all()

def digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*')) if p.is_file()}

@pytest.mark.parametrize('args,says', [
    (['--preset', 'huge'], "unknown preset 'huge'"),
    (['--preset', 'smoke', '--experiments', 'baseline', 'dropout'], "unknown experiment 'dropout'"),
    (['--preset', 'smoke', '--seeds', '0', '-3'], 'seeds must be non-negative'),
    (['--preset', 'smoke', '--data-dir', '/no/such/folder'], 'data folder /no/such/folder does not exist'),
    (['--preset', 'smoke', '--out', '{file}/inside'], 'is not writable'),
    (['--preset', 'smoke', '--out', '{results}'], 'already holds results'),
    (['--preset', 'smoke', '--seeds', 'one'], "invalid int value: 'one'"),
])
def test_bad_arguments_fail_with_one_line_and_touch_nothing(smoke_run, tmp_path, args, says):
    blocker = tmp_path/'a_file'; blocker.write_text('not a folder')
    before = digest(smoke_run)
    args = [a.format(file=blocker, results=smoke_run) for a in args]
    r = bench(*args, check=False)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('sel_bench: error:') and says in lines[0], r.stderr
    assert digest(smoke_run) == before

def rows(path): return len(pd.read_csv(path)) if path.exists() and path.stat().st_size else 0

def kill_mid_epoch(out, system, after_rows, reference):
    "Start a run, wait until `system` has `after_rows` rows, kill it (SIGKILL) half-way through the next epoch."
    epoch_s = reference.time_s.diff().iloc[after_rows]  # how long that next epoch trains, from the reference run
    p = subprocess.Popen([SEL_BENCH, '--preset', 'smoke', '--out', str(out), '--no-progress', *(['--resume'] if (out/'config.json').exists() else [])],
                         cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    csv = out/'seed0'/f'hist_{system}.csv'
    deadline = time.time() + 300
    while rows(csv) < after_rows:
        assert p.poll() is None and time.time() < deadline, 'the run ended before the kill point'
        time.sleep(0.005)
    time.sleep(epoch_s / 2)
    assert p.poll() is None, 'the run ended before it could be killed'
    p.send_signal(signal.SIGKILL); p.wait()
    return rows(csv)

def test_resume_after_kill_gives_the_same_rows(smoke_run, tmp_path):
    out = tmp_path/'run'
    ref = {s: pd.read_csv(smoke_run/'seed0'/f'hist_{s}.csv') for s in SYSTEMS}
    # killed in the Lottery Ticket's first retraining epoch (after pruning), then in Warmup+SEL's third stage
    assert kill_mid_epoch(out, 'lottery', 2, ref['lottery']) == 2
    assert kill_mid_epoch(out, 'warmup', 3, ref['warmup']) == 3
    bench('--preset', 'smoke', '--out', out, '--resume')
    for s in SYSTEMS:
        got = pd.read_csv(out/'seed0'/f'hist_{s}.csv')
        pd.testing.assert_frame_equal(got.drop(columns='time_s'), ref[s].drop(columns='time_s'), check_exact=True)

def test_paper_preset_is_the_seeds_configuration_and_runs(tmp_path):
    from sel_nb.systems import PRESETS
    from sel_nb.curriculum import seed_stages
    from sel_nb.data import write_cifar_like
    p = PRESETS['paper']
    assert (p.dataset, p.width, p.batch_size, p.lr) == ('cifar10', 64, 64, 1e-3)
    assert (p.baseline_epochs, p.lottery_pretrain_epochs, p.lottery_retrain_epochs, p.stage_epochs) == (30, 15, 30, 10)
    assert (p.warmup_epochs, p.warmup_per_class, p.prune_fraction, p.percentile, p.cap, p.held_per_class) == (5, 1000, 0.8, 40, 2000, 100)
    assert p.pretrained and p.seeds == (42,)
    assert [(s.start, s.end, s.decay, s.epochs, s.threshold) for s in seed_stages(p.stage_epochs)] == [
        (0.0, 0.25, 1.0, 10, 0.30), (0.20, 0.50, 0.94, 10, 0.45), (0.40, 0.65, 0.88, 10, 0.58),
        (0.60, 0.82, 0.82, 10, 0.68), (0.78, 1.0, 0.76, 10, 0.76)]
    data = tmp_path/'data'; write_cifar_like(data, n_per_batch=20, n_test=1000)  # 100 test images per class: the held-out set
    out = tmp_path/'paper'
    r = bench('--preset', 'paper', '--data-dir', data, '--out', out, '--trial', 2, '--device', 'cpu', timeout=1200)
    assert 'training from scratch' in r.stdout + r.stderr  # no ImageNet weights here, and it says so
    for s in SYSTEMS:
        h = pd.read_csv(out/'seed42'/f'hist_{s}.csv')
        assert len(h) >= 1 and h.flops_measured_T.iloc[-1] > 0
    cfg = (out/'config.json').read_text()
    assert '"width": 64' in cfg and '"pretrained": false' in cfg
