import importlib.util
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='session')
def load_tool():
    """Import a script from tools/ (not a package) as a module: ``load_tool('train')``."""
    def load(name):
        path = osp.join(REPO, 'tools', f'{name}.py')
        spec = importlib.util.spec_from_file_location(f'mmpse_tools_{name}', path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
