import numpy as np
import pytest
import torch

from mmpse_ext.datasets.transforms import PackPSEInputs, PSETargets


def test_packs_targets_with_the_contract_types(geo):
    results = PSETargets()(
        geo.drawn_polygon_results(
            64,
            96, [[10, 10, 80, 10, 80, 40, 10, 40], [10, 45, 50, 45, 50, 60, 10, 60]],
            ignored=[False, True]))
    results['scale_factor'] = (1.0, 1.0)
    packed = PackPSEInputs()(results)
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 64, 96)
    assert sample.gt_kernels.dtype == torch.uint8 and sample.gt_kernels.shape == (7, 64, 96)
    assert sample.gt_train_mask.dtype == torch.uint8 and sample.gt_train_mask.shape == (64, 96)
    assert torch.equal(sample.gt_kernels, torch.from_numpy(results['gt_kernels']))
    assert sample.gt_train_mask[50, 20] == 0 and sample.gt_train_mask[20, 20] == 1
    assert sample.gt_instances.ignored.tolist() == [False, True]
    assert len(sample.gt_instances.polygons) == 2
    assert sample.metainfo['scale_factor'] == (1.0, 1.0)
    assert sample.metainfo['img_shape'] == (64, 96)


def test_test_time_sample_has_no_targets(geo):
    results = geo.drawn_polygon_results(32, 32, [[2, 2, 20, 2, 20, 10, 2, 10]])
    results['scale_factor'] = (2.0, 2.0)
    sample = PackPSEInputs()(results)['data_samples']
    assert 'gt_kernels' not in sample and 'gt_train_mask' not in sample


def test_targets_of_another_size_are_rejected(geo):
    results = PSETargets()(geo.drawn_polygon_results(32, 32, [[2, 2, 20, 2, 20, 10, 2, 10]]))
    results['scale_factor'] = (1.0, 1.0)
    results['img'] = np.zeros((16, 16, 3), np.uint8)  # e.g. a transform forgot the maps
    with pytest.raises(ValueError, match='gt_kernels'):
        PackPSEInputs()(results)


def test_targets_stay_data_fields_when_meta_keys_name_every_result_key(geo):
    # MMOCR's tools/visualizations/browse_dataset.py sets the packer's meta_keys to every key of
    # the results, which made gt_kernels meta information and the packing fail
    results = PSETargets()(geo.drawn_polygon_results(32, 48, [[2, 2, 30, 2, 30, 12, 2, 12]]))
    results['scale_factor'] = (1.0, 1.0)
    pack = PackPSEInputs()
    pack.meta_keys = [key for key in results]
    sample = pack(results)['data_samples']
    assert 'gt_kernels' in sample.keys() and 'gt_kernels' not in sample.metainfo_keys()
    assert 'gt_train_mask' in sample.keys()
    assert sample.gt_kernels.dtype == torch.uint8 and sample.gt_kernels.shape == (7, 32, 48)
    assert torch.equal(sample.gt_kernels, torch.from_numpy(results['gt_kernels']))
    assert sample.metainfo['img_path'] == 'drawn.png'
