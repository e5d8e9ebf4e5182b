#!/usr/bin/env python
"""Markdown tables of the measurements .dev_scripts/gpu_acceptance.sh wrote (called by it).

    python .dev_scripts/gpu_acceptance/summarize.py OUT_DIR
"""
import json
import os.path as osp
import sys


def _load(out_dir, name):
    path = osp.join(out_dir, name)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _table(rows, columns):
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column, '')
            cells.append(f'{value:.3f}' if isinstance(value, float) else str(value))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def main(out_dir):
    op_check = _load(out_dir, 'op_check.json')
    if op_check:
        print(f"## pse_ext op: CUDA vs CPU (CUDA kernel: {op_check['cuda_kernel']})\n")
        print(
            _table(op_check['rows'], [
                'size', 'words', 'instances', 'cpu_ms', 'cuda_ms', 'cuda_speedup', 'cuda_equals_cpu'
            ]))
        print()
    decode = _load(out_dir, 'decode_bench.json')
    if decode and decode.get('gpu'):
        print('## Decode, logits on the GPU → polygons (ms, median)\n')
        print(
            _table(decode['gpu'], [
                'input', 'words', 'host_expand_ms', 'device_bfs_ms',
                'cpu_fused_on_copied_logits_ms', 'cuda_op_ms', 'cpu_op_ms', 'cuda_op_equals_cpu_op'
            ]))
        print()
    if decode and decode.get('cpu'):
        print('## Decode on the CPU, one thread (ms, median)\n')
        print(_table(decode['cpu'], ['input', 'words', 'repr', 'fused_ms', 'naive_ms', 'verdict']))
        print()
    train = _load(out_dir, 'train_bench.json')
    if train:
        print(f"## Training steps, flagship model (AMP / fp32 speed "
              f"{train['amp_over_fp32_speed']:.2f}x)\n")
        print(
            _table(train['results'], [
                'mode', 'device', 'batch', 'size', 'iters_per_s', 'images_per_s', 'peak_memory_gib',
                'loss_scale', 'final_loss'
            ]))
        print()
    precision = _load(out_dir, 'infer_precision.json')
    if precision:
        print('## Inference precision, image → polygons (PSEDetector, random weights)\n')
        print(
            _table(precision['rows'], [
                'precision', 'config', 'device', 'size', 'ms_per_image', 'speedup',
                'max_logit_diff_rel', 'polygons', 'matched', 'mean_iou'
            ]))
        print()
    env_path = osp.join(out_dir, 'collect_env.txt')
    if osp.isfile(env_path):
        print('## Environment\n')
        with open(env_path) as f:
            print('```\n' + f.read().strip() + '\n```')


if __name__ == '__main__':
    main(sys.argv[1])
