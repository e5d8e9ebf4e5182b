from .collect_env import collect_env, format_env

__all__ = ['collect_env', 'format_env']
