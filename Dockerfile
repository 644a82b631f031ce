# One image for every role in docker-compose.yml (web, worker, beat, dicom).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CUBE_STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN useradd --uid 1001 --create-home cube && mkdir -p /jobs && chown cube /jobs \
    && DJANGO_SECRET_KEY=build CUBE_VAR_DIR=/tmp/var python manage.py collectstatic --noinput -v 0
USER cube
EXPOSE 8000 11111
CMD ["gunicorn", "cube.wsgi:application", "--bind", "0.0.0.0:8000"]
