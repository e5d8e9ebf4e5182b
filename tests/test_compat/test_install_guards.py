"""setup.py compiles against the torch of the environment it installs into, and stops with one
line naming the README's command when it would not (an isolated build environment with its own
torch, or no torch at all). Played with a stand-in ``torch`` package first on ``PYTHONPATH``."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
COMMAND = 'pip install --no-build-isolation --no-deps .'


def _setup_py_with_torch(site_dir, torch_source):
    """``python setup.py --name`` in the checkout, with ``site_dir/torch`` as torch."""
    package = site_dir / 'torch'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text(torch_source)
    env = dict(os.environ, PYTHONPATH=str(site_dir))
    return subprocess.run([sys.executable, 'setup.py', '--name'],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)


@pytest.mark.parametrize(
    'build_env',
    ['pip-build-env-x1y2/overlay/lib/site-packages', 'build-env-k3j4/lib/site-packages'])
def test_an_isolated_build_torch_stops_the_build_with_one_line(tmp_path, build_env):
    result = _setup_py_with_torch(tmp_path / build_env, "__version__ = '2.99.0'\n")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith('mmpse_ext: this build uses torch 2.99.0 from an isolated build '
                           'environment (')
    assert line.endswith(f'build against the installed torch with `{COMMAND}`')


def test_a_build_without_torch_says_to_install_it_first(tmp_path):
    result = _setup_py_with_torch(tmp_path / 'site', "raise ImportError('no torch here')\n")
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert 'install torch (2.0 .. 2.14) first' in line and line.endswith(f'`{COMMAND}`')


def test_the_readme_command_is_the_one_the_messages_and_the_floor_job_use():
    from mmpse_ext.ops import extension
    with open(osp.join(REPO, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    section = readme.split('\n## Using mmpse_ext in an existing MMOCR project\n')[1]
    section = section.split('\n## ')[0]
    block = section.split('```bash\n')[1].split('```')[0]
    [line] = block.strip().splitlines()
    assert line.split('#')[0].strip() == COMMAND == extension.BUILD_COMMAND
    with open(osp.join(REPO, '.dev_scripts', 'run_floor_tests.sh')) as f:
        floor_job = f.read()
    assert f'  {COMMAND[len("pip install "):]} >' in floor_job  # its pip install line
