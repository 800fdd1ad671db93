FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir -e .
COPY . .
# Production storage (hashed, compressed names + manifest); the key only satisfies the settings check.
RUN DEBUG=0 ALLOWED_HOSTS=localhost SECRET_KEY=collectstatic-only-build-time-placeholder-key-0123456789 \
    python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "config.wsgi:application"]
