from django.db import migrations, models

# The four sides' scales of function=expand, as the API names them (options.EXPAND_SIDES when this was written).
EXPAND_SIDES = ('top_scale', 'bottom_scale', 'left_scale', 'right_scale')


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
        *[migrations.AddField(model_name='inpaintjob', name=side, field=models.FloatField(default=1.0))
          for side in EXPAND_SIDES],
    ]
