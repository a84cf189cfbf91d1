"""The labelled corpus (writer*.tsv) and its train/dev/test split."""
