"""`learngpt prepare`: text files -> token files (train.bin, val.bin, meta.json, tokenizer.json).

The files are read in pieces, cut where encoding is unchanged (cuts.py), encoded in parallel
(encode.py) and written in order (write.py), so memory stays bounded whatever the corpus size;
learngpt/data.py reads the result in place for `learngpt train --data DIR`.
"""

from learngpt.prepare.write import PrepareOptions, prepare

__all__ = ["PrepareOptions", "prepare"]
