"""End-to-end tests of the `sel_bench` command: outputs, one-line errors that touch nothing, faults
(a busy folder, a full disk, kills, Ctrl-C, damaged checkpoints and data files) and resuming after them,
and the `paper` preset pinned to the seed's configuration and run for a batch per phase of every recipe."""
import hashlib, json, os, shutil, signal, subprocess, time
from dataclasses import asdict, replace
import pandas as pd
import pytest
import torch
from conftest import BIN, ROOT, run, in_process
from sel_nb.benchmark import main as bench_main

SEL_BENCH = str(BIN/'sel_bench')
SYSTEMS = ('baseline', 'lottery', 'sel95', 'warmup')
LEAN = ('selective', 'selective_stale', 'selective_class', 'random_subset', 'guilt_freeze', 'stale_freeze')  # the selective chapter's

def bench(*args, **kw): return run([SEL_BENCH, *map(str, args), '--no-progress'], **kw)

@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
    "One uninterrupted smoke run, the reference for the other tests."
    out = tmp_path_factory.mktemp('smoke')/'run'
    bench('--preset', 'smoke', '--out', out)
    return out

def test_smoke_writes_histories_summary_and_figures(smoke_run):
    for s in SYSTEMS: assert (smoke_run/'seed0'/f'hist_{s}.csv').stat().st_size > 0
    for f in ('summary.csv', 'summary.json', 'summary.txt', 'benchmark_results.png', 'thermal_snapshot.png', 'config.json', 'command.txt',
              'index.html'):
        assert (smoke_run/f).stat().st_size > 0, f
    assert (smoke_run/'command.txt').read_text().startswith('sel_bench --preset smoke')
    summary = pd.read_csv(smoke_run/'summary.csv', index_col=0)
    assert list(summary.index) == list(SYSTEMS) and (summary.n_seeds == 1).all()
    code = json.loads((smoke_run/'config.json').read_text())['code']  # provenance: which code made these results
    import sel_nb
    assert code['sel_nb'] == sel_nb.__version__ and set(code) == {'sel_nb', 'git_commit', 'git_dirty'}
    head = run(['git', 'rev-parse', 'HEAD']).stdout.strip()
    assert code['git_commit'] == head and isinstance(code['git_dirty'], bool)
    cfg = json.loads((smoke_run/'config.json').read_text())  # the run's record, the machine beside it
    assert (cfg['experiments'], cfg['seeds'], cfg['comm'], cfg['nproc'], cfg['progress']) == (list(SYSTEMS), [0], 'allreduce', 1, False)
    assert cfg['machine']['cpu'] and cfg['machine']['cpu_capability']

def test_help_lists_the_hyphenated_options():
    r = run([SEL_BENCH, '--help'])
    assert '--data-dir' in r.stdout and '--no-progress' in r.stdout and '--comm' in r.stdout, r.stdout
    assert '--data_dir' not in r.stdout and '--no_progress' not in r.stdout

FASTCORE_FLOOR = '1.5.29'  # settings.ini: fastcore>=1.5.29

def test_cli_parses_once_with_the_oldest_fastcore_allowed(tmp_path):
    "With fastcore 1.5.29 (its `call_parse` re-parsed sys.argv), dashed options and flags reach `sel_bench` intact."
    floor = tmp_path/'floor'
    r = run([BIN/'python', '-m', 'pip', 'install', '-q', '--no-deps', '--target', floor, f'fastcore=={FASTCORE_FLOOR}'], check=False, timeout=300)
    assert r.returncode == 0, f"could not install fastcore {FASTCORE_FLOOR} from PyPI to test the floor:\n{r.stderr[-2000:]}"
    env = dict(os.environ, PYTHONPATH=f"{floor}{os.pathsep}{ROOT}")
    data, out = tmp_path/'data', tmp_path/'run'; data.mkdir()
    code = (f"import fastcore, sys; assert fastcore.__version__ == {FASTCORE_FLOOR!r}, fastcore.__version__\n"
            f"from sel_nb.benchmark import main\n"
            f"main(['--preset', 'smoke', '--experiments', 'baseline', '--data-dir', {str(data)!r}, '--out', {str(out)!r}, '--trial', '1', '--no-progress'])")
    r = run([BIN/'python', '-c', code], env=env, check=False, timeout=600)
    assert r.returncode == 0 and 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert (out/'seed0'/'hist_baseline.csv').exists() and '--no-progress' in (out/'command.txt').read_text()

def digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob('*')) if p.is_file()}

@pytest.mark.parametrize('args,says', [
    (['--preset', 'huge'], "unknown preset 'huge'"),
    (['--preset', 'smoke', '--experiments', 'baseline', 'dropout'], "unknown experiment 'dropout'"),
    (['--preset', 'smoke', '--seeds', '0', '-3'], 'seeds must be non-negative'),
    (['--preset', 'smoke', '--data-dir', '/no/such/folder'], 'data folder /no/such/folder does not exist'),
    (['--preset', 'smoke', '--data_dir', '/no/such/folder'], 'data folder /no/such/folder does not exist'),  # the underscored spelling works too
    (['--preset', 'smoke', '--comm', 'topk:3'], "--comm takes allreduce, fp16, local, powersgd:RANK, guilt:DENSITY or randk:DENSITY, got 'topk:3'"),
    (['--preset', 'smoke', '--comm', 'guilt:0.005'], '--comm guilt:0.005 is a gradient hook between processes: give --nproc 2 or more'),
    (['--preset', 'smoke', '--out', '{file}/inside'], 'is not writable'),
    (['--preset', 'smoke', '--out', '{results}'], 'already holds results'),
    (['--preset', 'smoke', '--seeds', 'one'], "invalid int value: 'one'"),
])
def test_bad_arguments_fail_with_one_line_and_touch_nothing(smoke_run, tmp_path, args, says):
    blocker = tmp_path/'a_file'; blocker.write_text('not a folder')
    before = digest(smoke_run)
    args = [a.format(file=blocker, results=smoke_run) for a in args]
    r = in_process(bench_main, *args, '--no-progress')  # the console command's own code, without a process to start
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('sel_bench: error:') and says in lines[0], r.stderr
    assert digest(smoke_run) == before

def test_the_console_command_says_a_bad_argument_in_one_line():
    r = bench('--preset', 'huge', check=False)
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [r.stderr.strip()] and "unknown preset 'huge'" in r.stderr, r.stderr

def rows(path): return len(pd.read_csv(path)) if path.exists() and path.stat().st_size else 0

def faulty(out, *args, fault=None, **kw):
    "A smoke run into `out` with `SEL_FAULT=fault` (none when None), not checked; no traceback, whatever happens."
    env = {k: v for k, v in os.environ.items() if k != 'SEL_FAULT'} | ({'SEL_FAULT': fault} if fault else {})
    r = bench('--preset', 'smoke', '--out', out, *args, env=env, check=False, **kw)
    assert 'Traceback' not in r.stdout + r.stderr, r.stdout + r.stderr
    return r

def error_line(r, *names):
    "The failed run's one stderr line, checked to start with `sel_bench: error:` and to name each of `names`."
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith('sel_bench: error: '), (r.returncode, r.stderr)
    for n in names: assert str(n) in lines[0], (n, lines[0])
    return lines[0]

def assert_same_rows(out, ref, systems, files=('hist',)):
    "The histories (and other per-system tables in `files`) of `systems` in `out` equal the reference run's, exactly, but for the wall-clock."
    for s in systems:
        for f in files:
            got, want = (pd.read_csv(d/'seed0'/f'{f}_{s}.csv').drop(columns='time_s') for d in (out, ref))
            pd.testing.assert_frame_equal(got, want, check_exact=True)

def temps(out): return sorted(p.name for p in out.rglob('*.tmp'))

def test_a_second_run_into_a_busy_folder_is_refused_and_the_first_goes_on(smoke_run, tmp_path):
    out, lock = tmp_path/'run', tmp_path/'run'/'.sel_bench.lock'
    first = subprocess.Popen([SEL_BENCH, '--preset', 'smoke', '--experiments', 'warmup', '--out', str(out), '--no-progress'],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (lock.exists() and f'"pid": {first.pid}' in lock.read_text()):  # the first run holds the folder
        assert first.poll() is None and time.time() < deadline, first.communicate()
        time.sleep(0.05)
    second = faulty(out, '--experiments', 'warmup')
    assert first.poll() is None, 'the first run ended before the second was refused: the test proves nothing'
    error_line(second, f'results folder {out} is in use by another sel_bench run (pid {first.pid} on host', 'choose another --out')
    stdout, stderr = first.communicate(timeout=600)
    assert first.returncode == 0 and 'Traceback' not in stdout + stderr, stderr
    assert_same_rows(out, smoke_run, ['warmup'])
    assert not lock.exists()  # released at the end
    # a run refused because the folder is busy writes nothing there
    from sel_nb.faults import RunLock
    with RunLock(out, 'pytest'):
        before = digest(out)
        error_line(faulty(out, '--resume'), f'(pid {os.getpid()} on host')
        assert digest(out) == before

def test_damaged_checkpoint_is_set_aside_and_the_system_restarts(smoke_run, tmp_path):
    out, ckpt = tmp_path/'run', tmp_path/'run'/'ckpt'/'seed0_warmup.pt'
    assert faulty(out, '--experiments', 'warmup', fault='kill@epoch,system=warmup,epoch=2').returncode == -signal.SIGKILL
    assert rows(out/'seed0'/'hist_warmup.csv') == 2  # the `epoch` point comes once the epoch is written
    ckpt.write_bytes(ckpt.read_bytes()[:ckpt.stat().st_size // 2])  # cut short
    r = faulty(out, '--experiments', 'warmup', '--resume')
    assert r.returncode == 0, r.stderr
    assert f"checkpoint {ckpt} is damaged (RuntimeError: " in r.stdout and "set aside as seed0_warmup.pt.damaged" in r.stdout, r.stdout
    assert (ckpt.parent/'seed0_warmup.pt.damaged').exists()
    assert_same_rows(out, smoke_run, ['warmup'])

@pytest.mark.parametrize('damage,name', [('cut', 'train-images-idx3-ubyte'), ('delete', 't10k-labels-idx1-ubyte')])
def test_damaged_or_missing_dataset_file_is_named(tmp_path, damage, name):
    data = tmp_path/'fmnist'; shutil.copytree('/usr/share/datasets/fashion-mnist', data)
    f = next(data.glob(name + '*'))
    if damage == 'cut': f.write_bytes(f.read_bytes()[:5000])
    else: f.unlink()
    r = bench('--preset', 'quick', '--data-dir', data, '--out', tmp_path/'run', '--experiments', 'baseline', '--seeds', 0,
              '--trial', 1, check=False, timeout=300)  # a trial: should the data load after all, the test ends soon
    assert 'Traceback' not in r.stdout + r.stderr, r.stderr
    error_line(r, name)
    assert not list((tmp_path/'run').glob('seed*/*'))  # nothing trained

def test_full_disk_says_which_file_and_resume_gives_the_same_rows(smoke_run, tmp_path):
    out, hist, ckpt = tmp_path/'run', tmp_path/'run'/'seed0'/'hist_warmup.csv', tmp_path/'run'/'ckpt'/'seed0_warmup.pt'
    r = faulty(out, '--experiments', 'warmup', fault='enospc@write,file=hist_warmup.csv,n=2')
    error_line(r, f'no space left on device (injected by SEL_FAULT) while writing {hist}; free some space', '--resume')
    assert rows(hist) == 1 and temps(out) == [] and not (out/'.sel_bench.lock').exists()  # the old file; no temporary one; unlocked
    r = faulty(out, '--experiments', 'warmup', '--resume', fault='enospc@write,file=seed0_warmup.pt,n=3')  # epochs 2, 3, 4
    error_line(r, f'while writing {ckpt}; free some space')
    assert rows(hist) == 4 and temps(out) == []
    assert faulty(out, '--experiments', 'warmup', '--resume').returncode == 0
    assert_same_rows(out, smoke_run, ['warmup'])

def test_kill_while_writing_a_checkpoint_then_resume(smoke_run, tmp_path):
    out, ckpt = tmp_path/'run', tmp_path/'run'/'ckpt'/'seed0_warmup.pt'
    assert faulty(out, '--experiments', 'warmup', fault='kill@write,file=seed0_warmup.pt,n=3').returncode == -signal.SIGKILL
    assert len(temps(out)) == 1 and temps(out)[0].startswith('.seed0_warmup.pt.')  # the half-written one
    assert torch.load(ckpt, weights_only=False)['epoch'] == 2  # the checkpoint before it, intact
    assert faulty(out, '--experiments', 'warmup', '--resume').returncode == 0
    assert temps(out) == []
    assert_same_rows(out, smoke_run, ['warmup'])

def test_resume_after_a_kill_and_a_ctrl_c_gives_the_same_rows(smoke_run, tmp_path):
    out, systems = tmp_path/'run', ['lottery', 'warmup']
    # killed in the Lottery Ticket's second retraining epoch (after pruning), then Ctrl-C in Warmup+SEL's third stage
    r = faulty(out, '--experiments', *systems, fault='kill@batch,system=lottery,epoch=3,batch=2')
    assert r.returncode == -signal.SIGKILL and rows(out/'seed0'/'hist_lottery.csv') == 2
    r = faulty(out, '--experiments', *systems, '--resume', fault='interrupt@batch,system=warmup,epoch=4,batch=2')
    assert r.returncode == 130 and rows(out/'seed0'/'hist_warmup.csv') == 3, r.stderr
    assert r.stderr.strip().splitlines() == ['sel_bench: interrupted; finished epochs are saved, continue with --resume']
    assert not (out/'.sel_bench.lock').exists()  # released
    assert faulty(out, '--experiments', *systems, '--resume').returncode == 0
    assert_same_rows(out, smoke_run, systems)

@pytest.fixture(scope='module')
def lean_run(tmp_path_factory):
    "One uninterrupted smoke run of the selective chapter's systems (and the Baseline), the reference for their resume test."
    out = tmp_path_factory.mktemp('lean')/'run'
    bench('--preset', 'smoke', '--experiments', 'baseline', *LEAN, '--out', out)
    return out

def test_selective_systems_write_points_and_the_pareto_figure(lean_run):
    summary = pd.read_csv(lean_run/'summary.csv', index_col=0)
    assert list(summary.index) == ['baseline', *LEAN] and {'reach_executed_mean', 'reach_time_mean'} <= set(summary.columns)
    assert (lean_run/'pareto.png').stat().st_size > 0
    for s in ('baseline', *LEAN):
        pts, hist = pd.read_csv(lean_run/'seed0'/f'points_{s}.csv'), pd.read_csv(lean_run/'seed0'/f'hist_{s}.csv')
        assert len(pts) >= 4 * len(hist) and pts.flops_measured_T.is_monotonic_increasing  # 47 batches an epoch, a point every 11
    base = pd.read_csv(lean_run/'seed0'/'hist_baseline.csv').flops_measured_T.iloc[-1]
    for s in LEAN: assert pd.read_csv(lean_run/'seed0'/f'hist_{s}.csv').flops_measured_T.iloc[-1] < base  # less work executed

def test_selective_systems_resume_after_a_kill_with_the_same_rows(lean_run, tmp_path):
    out, systems = tmp_path/'run', ['selective', 'stale_freeze']
    r = faulty(out, '--experiments', *systems, fault='kill@batch,system=stale_freeze,epoch=2,batch=20')
    assert r.returncode == -signal.SIGKILL and rows(out/'seed0'/'hist_stale_freeze.csv') == 1
    assert faulty(out, '--experiments', *systems, '--resume').returncode == 0
    assert_same_rows(out, lean_run, systems, files=('hist', 'points'))

def test_settings_and_a_validation_split_are_recorded(tmp_path):
    out = tmp_path/'run'
    bench('--preset', 'smoke', '--experiments', 'random_subset', '--set', 'keep=0.25', '--validation', '30', '--out', out, '--trial', '2')
    cfg = json.loads((out/'config.json').read_text())
    assert cfg['preset']['keep'] == 0.25 and cfg['evaluated_on'].startswith('a validation split: 30 training images per class')
    assert cfg['data'] == dict(dataset='synthetic', n_train=1500 - 300, n_test=300)
    h = pd.read_csv(out/'seed0'/'hist_random_subset.csv')
    assert h.epoch.tolist() == [1]  # a trial: one epoch a phase
    r = faulty(tmp_path/'bad', '--set', 'kepp=1')
    error_line(r, '--set takes name=value')

def test_paper_preset_is_the_seeds_configuration_and_runs(tmp_path):
    from sel_nb.presets import PRESETS
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
    # Every recipe's code at width 64 on CIFAR-10's file format, one batch a phase and stage. Evaluation is most of the cost, so the
    # held-out set is 10 images per class (the preset's 100 would need 1,000 test images); Warmup+SEL runs SEL-95%'s stages, and
    # stale selection with freezing covers the stale rule and guilt freezing (the other rules run in the smoke tests above).
    data = tmp_path/'data'; write_cifar_like(data, n_per_batch=20, n_test=100)
    out, systems = tmp_path/'paper', ('baseline', 'lottery', 'warmup', 'selective', 'stale_freeze')
    r = bench('--preset', 'paper', '--experiments', *systems, '--set', 'held_per_class=10', '--data-dir', data, '--out', out, '--trial', 1,
              '--device', 'cpu', timeout=1500)
    assert 'training from scratch' in r.stdout + r.stderr  # no ImageNet weights here, and it says so
    for s in systems:
        h = pd.read_csv(out/'seed42'/f'hist_{s}.csv')
        assert len(h) >= 1 and h.flops_measured_T.iloc[-1] > 0
    cfg = (out/'config.json').read_text()
    assert '"width": 64' in cfg and '"pretrained": false' in cfg
    assert json.loads(cfg)['preset'] == json.loads(json.dumps(asdict(replace(p, held_per_class=10))))  # the paper preset, but for that
