"""Layers: modules with parameters or state, each a thin shell over one registered op."""
from .adaptive_pool import AdaptiveAvgPool1d, AdaptiveAvgPool2d
from .attention import MultiheadAttention
from .conv import Conv2d
from .conv1d import Conv1d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d
from .dropout import Dropout
from .dropout2d import Dropout2d
from .embedding import Embedding
from .flatten import Flatten
from .group_norm import GroupNorm
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .pooling1d import AvgPool1d, MaxPool1d
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import (TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer, generate_square_subsequent_mask)
from .upsample import Upsample

__all__ = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d",
           "BatchNorm2d", "LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell",
           "GRUCell", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerDecoder", "SinusoidalPositionalEncoding",
           "LearnedPositionalEmbedding", "generate_square_subsequent_mask", "Conv1d",
           "ConvTranspose1d", "ConvTranspose2d", "MaxPool1d", "AvgPool1d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "GroupNorm", "Upsample", "Dropout2d"]
