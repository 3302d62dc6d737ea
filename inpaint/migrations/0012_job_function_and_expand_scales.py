from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inpaint', '0011_job_answer'),
    ]

    operations = [
        migrations.AddField(
            model_name='inpaintjob',
            name='function',
            field=models.CharField(default='description_edit_with_mask', max_length=32),
        ),
        migrations.AddField(
            model_name='inpaintjob',
            name='top_scale',
            field=models.FloatField(default=1.0),
        ),
        migrations.AddField(
            model_name='inpaintjob',
            name='bottom_scale',
            field=models.FloatField(default=1.0),
        ),
        migrations.AddField(
            model_name='inpaintjob',
            name='left_scale',
            field=models.FloatField(default=1.0),
        ),
        migrations.AddField(
            model_name='inpaintjob',
            name='right_scale',
            field=models.FloatField(default=1.0),
        ),
    ]
