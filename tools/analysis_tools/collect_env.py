#!/usr/bin/env python
"""Print the environment: platform, Python, CUDA, PyTorch, the OpenMMLab packages and how our
extension ``mmpse_ext._C`` was built (CPU or CUDA kernels, torch/CUDA versions, architectures).

    python tools/analysis_tools/collect_env.py
"""
from mmpse_ext.utils import collect_env, format_env


def main():
    print(format_env(collect_env()))


if __name__ == '__main__':
    main()
