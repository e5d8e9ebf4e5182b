"""The start of a run shared by tools/train.py and tools/test.py, after the config is built."""
import os

from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

from mmpse_ext.engine import init_cpu_distributed


def build_tool_runner(cfg: Config, launcher: str) -> Runner:
    """Report the environment, start a CPU process group if needed, build the Runner.

    The environment report (``tools/analysis_tools/collect_env.py``, our extension's build
    included) is printed once per job (rank 0). The Runner is built as MMOCR's tools build it.

    Args:
        cfg (Config): the full config, command-line options applied.
        launcher (str): the ``--launcher`` value.

    Returns:
        Runner: ready to ``train()`` or ``test()``.
    """
    if int(os.environ.get('RANK', '0')) == 0:
        from mmpse_ext.utils import collect_env, format_env  # imports our compiled op library
        print(format_env(collect_env(with_compiling_details=False)), flush=True)
    init_cpu_distributed(launcher, cfg)
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
