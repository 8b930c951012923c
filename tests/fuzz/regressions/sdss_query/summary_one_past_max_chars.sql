SELECT TOP 10 s.objID, s.ra -- position
 cObj AS s /* spectra */ WHERE s.class = 'GALAXY  ''x''' ;
