"Federated learning on Flower (nbs/15_federated, 15a_fed_server, 15b_fed_study, 15c_fed_secagg): top-k and random-k uploads lose nothing, selection draws what it claims, dropout loses nothing, a local deployment runs two rounds, a bad option is one line. (That a killed server resumes to the same rows, and that Flower's simulation engine gives the local engine's rows, is checked in the 15a chapter.)"
import math, subprocess, sys, tempfile
from pathlib import Path
import numpy as np
import pytest
flwr = pytest.importorskip('flwr')
import torch
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, RecordDict
from sel_nb.comm import GuiltSparseState
from sel_nb.faults import inject_faults
from sel_nb.federated import LocalGrid, client_app, encode_update, decode_update, load_client_state, round_support, weights_of, FedCNN, federation
from sel_nb.fed_server import FED_PRESETS, FedRun, candidates, choose_clients, hello, round_config, run_fed, server_embarrassment
from conftest import ROOT, BIN

SMOKE = FED_PRESETS['smoke']

@pytest.mark.parametrize('density', [0.01, 0.001])
def test_topk_sends_exactly_k_and_loses_nothing_over_rounds(density):
    n, st = 20_000, GuiltSparseState(density=density)
    k, total, sent = int(np.ceil(density * n)), torch.zeros(n, dtype=torch.float64), torch.zeros(n, dtype=torch.float64)
    for r in range(6):
        upd = torch.randn(n, generator=torch.Generator().manual_seed(r)) * (r + 1)
        old = st.residuals.get(0, torch.zeros(n)).clone()
        rec = encode_update(upd, 'topk', st)
        assert len(rec['indices'].numpy()) == len(rec['values'].numpy()) == k
        assert len(np.unique(rec['indices'].numpy())) == k
        got = decode_update(rec, n)
        torch.testing.assert_close(got + st.residuals[0], upd + old, rtol=0, atol=1e-5)  # sent + residual = update + old residual
        biggest = (upd + old).abs().topk(k).values.min()
        assert got[got != 0].abs().min() >= biggest - 1e-6  # what is sent is the largest entries
        sent += got.double(); total += upd.double()
    torch.testing.assert_close(sent + st.residuals[0].double(), total, rtol=0, atol=1e-4)

def _grid(tmp):
    run = FedRun('poc', 0.1, 0, SMOKE)
    grid = LocalGrid(client_app, SMOKE.clients)
    node_of, counts, _ = hello(run, grid, tmp)
    return run, grid, node_of, counts, federation(SMOKE.dataset, SMOKE.clients, 0.1, 0)

def test_power_of_choice_chooses_the_highest_loss_candidates(tmp_path):
    run, grid, node_of, counts, fed = _grid(tmp_path)
    for t in (1, 2, 3):
        w = weights_of(FedCNN()) if t == 1 else torch.randn(weights_of(FedCNN()).numel()) * 0.05
        chosen, cost = choose_clients(run, t, grid, w, fed, counts, node_of, tmp_path)
        ask = lambda c: Message(RecordDict({'arrays': ArrayRecord({'weights': Array(w.numpy())}), 'config': round_config(run, t, tmp_path)}), dst_node_id=node_of[c], message_type='query.loss')
        loss = {c: grid.send_and_receive([ask(c)])[0].content['metrics']['loss'] for c in candidates(run, t, counts)}
        assert chosen == sorted(sorted(loss, key=lambda c: -loss[c])[:SMOKE.per_round])
        assert min(loss[c] for c in chosen) >= max(loss[c] for c in loss if c not in chosen)
        assert cost['select_client_forwards'] == sum(len(fed['parts'][c]) for c in candidates(run, t, counts))

def test_embarrassment_selection_chooses_the_most_embarrassing_data(tmp_path):
    run, grid, node_of, counts, fed = _grid(tmp_path)
    run = FedRun('embarrassed', 0.1, 0, SMOKE)
    w = torch.randn(weights_of(FedCNN()).numel()) * 0.05
    chosen, cost = choose_clients(run, 1, grid, w, fed, counts, node_of, tmp_path)
    E = server_embarrassment(w, fed)
    score = {c: (counts[c] * E).sum() / max(counts[c].sum(), 1) for c in candidates(run, 1, counts)}
    assert chosen == sorted(sorted(score, key=lambda c: -score[c])[:SMOKE.per_round])
    assert cost == dict(select_server_forwards=len(fed['server']))

def test_random_selection_is_seeded_and_distinct(tmp_path):
    run, grid, node_of, counts, fed = _grid(tmp_path)
    run = FedRun('dense', 0.1, 0, SMOKE)
    picks = [choose_clients(run, t, grid, None, fed, counts, node_of, tmp_path)[0] for t in range(1, 30)]
    assert all(len(set(p)) == SMOKE.per_round for p in picks)
    assert len({tuple(p) for p in picks}) > 5  # not the same clients every round
    assert picks[0] == choose_clients(run, 1, grid, None, fed, counts, node_of, tmp_path)[0]

def _train(grid, node, tmp, t, lr, landed, w, upload='topk', refused=-1):
    "What client `node` sends in round `t` (as the dense update it stands for)."
    cfg = ConfigRecord({'dataset': SMOKE.dataset, 'clients': SMOKE.clients, 'alpha': 0.1, 'seed': 0, 'round': t, 'epochs': 1, 'lr': lr,
                        'batch': 32, 'upload': upload, 'density': 0.01, 'state_dir': str(tmp), 'landed': landed, 'refused': refused})
    msg = Message(RecordDict({'arrays': ArrayRecord({'weights': Array(w.numpy())}), 'config': cfg}), dst_node_id=node, message_type='train')
    rec = grid.send_and_receive([msg])[0].content['update']
    if upload == 'randk': assert list(rec) == ['values'] and len(rec['values'].numpy()) == int(np.ceil(0.01 * w.numel()))  # k values, no indices
    return decode_update(rec, w.numel(), round_support(w.numel(), 0.01, 0, t) if upload == 'randk' else None)

def _residual(tmp, before, upload):
    st = load_client_state(tmp, 0, before)
    return st['residual'] if upload == 'randk' else st['sparse']['residuals'][0]

@pytest.mark.parametrize('upload', ['topk', 'randk'])
@pytest.mark.parametrize('fate', ['lost', 'landed', 'refused'])
def test_a_lost_upload_returns_to_the_residual_and_a_refused_one_is_dropped(tmp_path, fate, upload):
    "Round 1's upload, lost on the way, comes back in the client's residual; landed, it does not; refused as diverged, the client's state goes back to before round 1."
    grid, w = LocalGrid(client_app, SMOKE.clients), weights_of(FedCNN())
    sent1 = _train(grid, 1000, tmp_path, 1, 0.05, -1, w, upload)
    res1 = _residual(tmp_path, 2, upload)
    sent2 = _train(grid, 1000, tmp_path, 2, 0.0, 1 if fate == 'landed' else -1, w, upload, refused=1 if fate == 'refused' else -1)  # lr 0: no new update, only what the client holds
    res2 = _residual(tmp_path, 3, upload)
    torch.testing.assert_close(sent2 + res2, dict(lost=res1 + sent1, landed=res1, refused=0 * res1)[fate], rtol=0, atol=1e-6)
    assert sent1.abs().sum() > 0 and res1.abs().sum() > 0

@pytest.mark.parametrize('upload', ['topk', 'randk'])
def test_a_refused_round_is_void_and_a_lost_one_before_it_still_comes_back(tmp_path, upload):
    "Round 1's upload is lost, round 2's refused: round 3 sends and holds what round 1 left (its residual and its lost upload), the same again when a resumed server repeats round 3."
    grid, w = LocalGrid(client_app, SMOKE.clients), weights_of(FedCNN())
    sent1 = _train(grid, 1000, tmp_path, 1, 0.05, -1, w, upload)
    res1 = _residual(tmp_path, 2, upload)
    _train(grid, 1000, tmp_path, 2, 0.05, -1, w, upload)  # its update is refused by the server
    sent3 = _train(grid, 1000, tmp_path, 3, 0.0, -1, w, upload, refused=2)
    torch.testing.assert_close(sent3 + _residual(tmp_path, 4, upload), res1 + sent1, rtol=0, atol=1e-6)
    torch.testing.assert_close(_train(grid, 1000, tmp_path, 3, 0.0, -1, w, upload, refused=2), sent3, rtol=0, atol=0)  # round 3 repeated
    assert res1.abs().sum() > 0 and sent1.abs().sum() > 0

def test_random_k_sends_the_rounds_support_and_loses_nothing_over_rounds(tmp_path):
    "Over rounds, what a random-k client sent plus its residual is everything it computed: the dense client's updates from the same weights."
    grid, sent, dense = LocalGrid(client_app, SMOKE.clients), 0, 0
    for t in range(1, 5):
        w = weights_of(FedCNN()) + 0.01 * t
        got = _train(grid, 1000, tmp_path/'r', t, 0.05, t - 1, w, 'randk')
        assert set(got.nonzero()[:, 0].tolist()) <= set(round_support(w.numel(), 0.01, 0, t).tolist())
        sent, dense = sent + got.double(), dense + _train(grid, 1000, tmp_path/'d', t, 0.05, t - 1, w, 'dense').double()
    torch.testing.assert_close(sent + _residual(tmp_path/'r', 5, 'randk').double(), dense, rtol=0, atol=1e-5)

def test_dropout_aggregates_the_survivors(tmp_path):
    run = FedRun('top1', 0.1, 0, SMOKE, dropout=0.34)
    rows = run_fed(run, LocalGrid(client_app, SMOKE.clients), tmp_path/'ck.pt', tmp_path/'c')
    assert [(r['chosen'], r['aggregated']) for r in rows] == [(3, 2)] * SMOKE.rounds
    assert all(r['bytes_up'] > 0 for r in rows)

BAD = [(['--strategies', 'nope'], "unknown strategy 'nope'"), (['--alphas', '-1'], 'alpha must be a positive number'),
       (['--preset', 'huge'], "unknown preset 'huge'"), (['--dropout', '1.5'], '--dropout must be in [0, 1)'), (['--engine', 'grpc'], "unknown engine 'grpc'")]

@pytest.mark.parametrize('args,says', BAD)
def test_a_bad_option_is_one_line(args, says, tmp_path, capsys):
    from sel_nb.fed_study import fed_main
    with pytest.raises(SystemExit) as e: fed_main([*args, '--out', str(tmp_path/'o')])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and says in err, err
    assert not (tmp_path/'o').exists()  # checked before anything is written

def test_the_console_command_says_a_bad_option_in_one_line(tmp_path):
    r = subprocess.run([BIN/'python', '-c', 'from sel_nb.fed_study import fed_main; fed_main()', '--strategies', 'nope'],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and r.stderr.strip() == f"sel_fed: error: unknown strategy 'nope'; choose from {', '.join(__import__('sel_nb.fed_server').fed_server.FED_STRATEGIES)}"

def _free_port():
    import socket
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _wait_for_port(port, seconds=60):
    import socket, time
    for _ in range(int(seconds * 5)):
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0: return
        time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds} s")

def test_a_local_deployment_runs_two_rounds(tmp_path):
    "One SuperLink and two SuperNodes as processes on loopback (insecure), the app sent by `flwr run`: the same rows as the apps run in this process."
    import dataclasses, os, csv
    from sel_nb.fed_server import flower_app
    env = os.environ | {'FLWR_HOME': str(tmp_path/'flwr'), 'PATH': f"{BIN}:{os.environ['PATH']}", 'PYTHONPATH': str(ROOT)}
    link, nodes = _free_port(), [_free_port(), _free_port()]
    (tmp_path/'flwr').mkdir()
    (tmp_path/'flwr'/'config.toml').write_text(f'[superlink]\ndefault = "here"\n\n[superlink.here]\naddress = "127.0.0.1:{link}"\ninsecure = true\n')
    out = tmp_path/'out'
    app = flower_app(tmp_path/'app', strategy='top1', alpha='0.1', seed=0, preset='smoke', out=str(out), clients=2, **{'per-round': 2, 'candidates': 2, 'rounds': 2})
    procs = []
    try:
        log = lambda name: open(tmp_path/f'{name}.log', 'w')
        procs.append(subprocess.Popen([BIN/'flower-superlink', '--insecure', '--port', str(link), '--database', ':flwr-in-memory:'], env=env, cwd=tmp_path, stdout=log('link'), stderr=subprocess.STDOUT))
        _wait_for_port(link)
        for i, port in enumerate(nodes):
            procs.append(subprocess.Popen([BIN/'flower-supernode', '--insecure', '--superlink', f'127.0.0.1:{link}', '--port', str(port),
                                           '--node-config', f'partition-id={i} num-partitions=2'], env=env, cwd=tmp_path, stdout=log(f'node{i}'), stderr=subprocess.STDOUT))
        r = subprocess.run([BIN/'flwr', 'run', str(app), 'here', '--stream'], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert (out/'rows.csv').exists(), f"flwr run exited {r.returncode} without rows\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}"
    finally:
        for p in procs: p.terminate()
        for p in procs:
            try: p.wait(timeout=20)
            except subprocess.TimeoutExpired: p.kill()
    deployed = list(csv.DictReader(open(out/'rows.csv')))
    assert [int(r['round']) for r in deployed] == [1, 2] and all(int(r['aggregated']) == 2 for r in deployed)
    preset = dataclasses.replace(SMOKE, clients=2, per_round=2, candidates=2, rounds=2)
    local = run_fed(FedRun('top1', 0.1, 0, preset), LocalGrid(client_app, 2), tmp_path/'l.pt', tmp_path/'lc')
    assert [float(r['acc']) for r in deployed] == pytest.approx([r['acc'] for r in local], abs=1e-6)
    assert [int(r['forwards']) for r in deployed] == [r['forwards'] for r in local]

def test_secagg_plus_carries_dense_and_shared_support_uploads_and_costs_bytes():
    "Flower's SecAgg+ (workflow and mod) runs on our clients; masking costs bytes; a random-k upload on a shared support keeps its saving under it."
    from sel_nb.fed_secagg import measure_secagg
    fed = federation('synthetic', 4, 1.0, 0)
    plain, secure, sparse = measure_secagg(fed, 4, 1.0, False), measure_secagg(fed, 4, 1.0, True), measure_secagg(fed, 4, 0.01, True)
    n = weights_of(FedCNN()).numel()
    assert 4 * n < plain['up_per_client'] < 4 * n + 2000
    assert secure['up_per_client'] > 1.5 * plain['up_per_client']  # quantised to a wider integer, plus key shares
    assert sparse['entries'] == math.ceil(0.01 * n)  # as many as the study's random-k and top-k send
    assert sparse['up_per_client'] < secure['up_per_client'] / 20

def test_tuning_chooses_each_strategys_best_validation_setting(tmp_path):
    "With --tune-each every strategy gets the setting with its best accuracy on the validation split (tuning seed), and its reported runs use it."
    import json
    from sel_nb.fed_study import FedConfig, run_fed_study
    cfg = FedConfig('smoke', strategies=('dense', 'top1'), alphas=('0.1',), tune_lrs=(0.02, 0.2), tune_each=True, out=tmp_path/'s', progress=False, strict=False)  # a smoke run's few rounds may leave a choice at an edge
    run_fed_study(cfg, log=lambda *a: None)
    tuned = json.loads((tmp_path/'s'/'tuned.json').read_text())['0.1']
    for s in ('dense', 'top1'):
        scores = tuned[s]['val_acc']  # the grid, and any step past its edge
        assert {'e1_lr0.02', 'e1_lr0.2'} <= set(scores) and f"e1_lr{tuned[s]['lr']:g}" == max(scores, key=scores.get)
        reported = json.loads(next((tmp_path/'s'/'runs').glob(f'{s}_a0.1_*_seed0.json')).read_text())
        assert reported['lr'] == tuned[s]['lr'] and reported['split'] == 'test'
    assert sorted(p.name for p in (tmp_path/'s'/'runs').glob('*_val.json')) == sorted(f'{s}_a0.1_{k}_seed100_val.json' for s in ('dense', 'top1') for k in tuned[s]['val_acc'])
