"""A clip's media, on the shared ground (PyAV and Pillow, no torch): the one clip type
(`clip`), frames to MP4 and poster (`encode`, the generator's: it takes numpy frames),
fitting a clip to an upload limit (`fit`), reading frames back (`frames`), the MP4 writer
both use (`mp4`) and the Telegram thumbnail (`thumbnail`). Only `encode` and `frames` import
numpy; the bot uses the others."""
