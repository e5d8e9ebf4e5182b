""".dev_scripts/gpu_acceptance.sh --dry-run: every stage of the GPU acceptance runs on the CPU
(or says why it is skipped), so the script cannot rot between the rare runs on a lent GPU."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAGES = [
    'environment', 'wheels', 'imgaug', 'build', 'op_check', 'collect_env', 'needs_cuda_tests',
    'decode_bench', 'train_bench', 'infer_precision'
]


@pytest.mark.slow
def test_dry_run_passes_every_stage_or_says_why_it_skips(tmp_path):
    out = tmp_path / 'out'
    env = dict(os.environ, PYTHON=sys.executable)
    result = subprocess.run(
        ['bash', '.dev_scripts/gpu_acceptance.sh', '--dry-run', '--out',
         str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = (out / 'summary.md').read_text()
    assert summary.startswith('# mmpse_ext GPU acceptance: dry run')
    rows = {
        line.split('|')[1].strip(): line.split('|')[2].strip()
        for line in summary.splitlines() if line.startswith('| ') and line.count('|') == 5
    }
    for stage in STAGES:
        assert stage in rows, stage
    assert rows['wheels'] == rows['build'] == 'skipped'
    assert 'dry run' in summary.split('| wheels |')[1].splitlines()[0]
    for stage in ('environment', 'op_check', 'collect_env', 'decode_bench', 'train_bench',
                  'infer_precision'):
        assert rows[stage] == 'ok', stage
    assert 'every needs_cuda test is skipped' in summary

    train = json.loads((out / 'train_bench.json').read_text())
    fp32, amp = train['results']
    assert (fp32['mode'], amp['mode']) == ('fp32', 'amp')
    assert amp['loss_scale'] in (1024.0, 512.0) and amp['losses_finite']
    op_check = json.loads((out / 'op_check.json').read_text())
    assert op_check['cuda_kernel'] is False and op_check['rows'][0]['instances'] > 0
    assert 'mmpse_ext._C kernels: CPU only' in (out / 'collect_env.txt').read_text()
    assert '## Training steps, flagship model' in summary
    precision = json.loads((out / 'infer_precision.json').read_text())
    fp32, bf16 = precision['rows']
    assert (fp32['precision'], bf16['precision']) == ('fp32', 'bf16')
    assert bf16['max_logit_diff_rel'] < 0.05  # bfloat16 rounding, not a broken path
    assert '## Inference precision' in summary
