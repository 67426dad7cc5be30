"""Data plumbing for training: datasets, loaders, splits, cross-validation, scaling, one-hot."""
from .dataset import Dataset, Subset, TensorDataset
from .encoding import one_hot
from .loader import DataLoader
from .scalers import MinMaxScaler, StandardScaler
from .split import KFold, StratifiedKFold, train_test_split

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "train_test_split", "KFold",
           "StratifiedKFold", "MinMaxScaler", "StandardScaler", "one_hot"]
