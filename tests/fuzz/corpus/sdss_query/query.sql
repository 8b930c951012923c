SELECT TOP 10 s.objID, s.ra -- position
  FROM SpecObj AS s /* spectra */ WHERE s.class = 'GALAXY  ''x''' ;
