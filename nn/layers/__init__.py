"""Layers: modules with parameters or state, each a thin shell over one registered op."""
from .attention import MultiheadAttention
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Linear
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AvgPool2d, MaxPool2d
from .positional import LearnedPositionalEmbedding, SinusoidalPositionalEncoding
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import (TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
                          TransformerEncoderLayer, generate_square_subsequent_mask)

__all__ = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten", "Dropout", "BatchNorm1d",
           "BatchNorm2d", "LayerNorm", "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell",
           "GRUCell", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerDecoder", "SinusoidalPositionalEncoding",
           "LearnedPositionalEmbedding", "generate_square_subsequent_mask"]
