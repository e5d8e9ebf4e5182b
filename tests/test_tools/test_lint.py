""".dev_scripts/lint.sh: flake8, isort and yapf in check mode with the settings of setup.cfg (100
columns), run on a small copy of the repository layout. Each tool's finding fails the script, and
nothing is rewritten."""
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CLEAN = '''"""A module the three tools accept."""
import os

import numpy as np

from mmpse_ext.registry import MODELS


def function_with_a_long_line(first_argument, second_argument, third_argument=os.sep):
    return MODELS, np.zeros(3), first_argument, second_argument, third_argument, 'x' * 1000000000000
'''
# (name, what the module holds, the tool that must object)
FINDINGS = [
    ('unused_import', 'import os\n', 'flake8'),
    ('long_line', CLEAN.replace('* 1000000000000', '* 10000000000000'), 'flake8'),
    ('import_order',
     CLEAN.replace('import os\n\nimport numpy as np\n',
                   'import numpy as np\n\nimport os\n'), 'isort'),
    ('layout', 'def f(a, b):\n    return dict(a=a,\n                b=b)\n', 'yapf'),
]


def _lint(tmp_path, module_text):
    """Lay out a mini repository with ``mmpse_ext/module.py``, run the script; returns (result,
    the module's text afterwards)."""
    for name in ('setup.cfg', '.dev_scripts/lint.sh', '.dev_scripts/find_python.sh'):
        os.makedirs(osp.dirname(tmp_path / name), exist_ok=True)
        shutil.copy(osp.join(REPO, name), tmp_path / name)
    for folder in ('mmpse_ext', 'tools', 'tests', 'configs'):
        (tmp_path / folder).mkdir()
    (tmp_path / 'setup.py').write_text('')
    module = tmp_path / 'mmpse_ext' / 'module.py'
    module.write_text(module_text)
    result = subprocess.run(['bash', str(tmp_path / '.dev_scripts' / 'lint.sh')],
                            env=dict(os.environ, PYTHON=sys.executable),
                            capture_output=True,
                            text=True,
                            timeout=300)
    return result, module.read_text()


def test_clean_code_at_100_columns_passes(tmp_path):
    assert max(len(line) for line in CLEAN.splitlines()) == 100
    result, _ = _lint(tmp_path, CLEAN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert '[lint] OK' in result.stderr


@pytest.mark.parametrize(
    'module_text,tool', [f[1:] for f in FINDINGS], ids=[f[0] for f in FINDINGS])
def test_each_tool_fails_the_script_and_nothing_is_rewritten(tmp_path, module_text, tool):
    result, after = _lint(tmp_path, module_text)
    assert result.returncode == 1
    failed = result.stderr.split('[lint] FAILED: ')[1].split(' (')[0].split()
    assert tool in failed, result.stdout + result.stderr
    assert after == module_text
